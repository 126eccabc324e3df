import type { TransferDoc } from '../../src/modules/finance/finance.model';
import { ageDebts, assessRisk } from '../../src/modules/finance/risk';
import { testClock } from '../helpers/clock';

const DAY = 86_400_000;
const LINE = 'line:b:v:INR';
let n = 0;

function transfer(kind: TransferDoc['kind'], side: 'debit' | 'credit', amount: number, at: Date, dueAt: Date | null = null, extra: Partial<TransferDoc> = {}): TransferDoc {
  n += 1;
  return {
    _id: `t${n}`,
    kind,
    debitAccountId: side === 'debit' ? LINE : 'clearing:stripe:INR',
    creditAccountId: side === 'debit' ? 'vendor:v:INR' : LINE,
    amount,
    currency: 'INR',
    pending: false,
    pendingId: null,
    resolution: kind === 'post' ? 'post' : null,
    debitSeq: n,
    creditSeq: n,
    referenceType: 'order',
    referenceId: `r${n}`,
    actorId: null,
    partyIds: ['b', 'v'],
    dueAt,
    memo: null,
    at,
    ...extra,
  };
}

describe('risk rules (pure, on a test clock)', () => {
  test('charges are paid oldest-due first; what is unpaid past its due date is overdue, counted in days', () => {
    const clock = testClock();
    const t0 = clock();
    const history = [
      transfer('post', 'debit', 10_000, t0, new Date(t0.getTime() + 30 * DAY)),
      transfer('post', 'debit', 5_000, t0, new Date(t0.getTime() + 10 * DAY)),
      transfer('payment', 'credit', 6_000, new Date(t0.getTime() + DAY)),
    ];
    expect(ageDebts(LINE, history, clock())).toMatchObject({ overdue: 0, daysPastDue: 0 });
    clock.advance(15 * DAY);
    // The 5,000 due on day 10 was paid by day 1's 6,000; 1,000 of it went to the 10,000 due on day 30.
    expect(ageDebts(LINE, history, clock())).toMatchObject({ overdue: 0, daysPastDue: 0 });
    clock.advance(20 * DAY); // day 35
    expect(ageDebts(LINE, history, clock())).toMatchObject({ overdue: 9_000, daysPastDue: 5 });
  });

  test('a line past due beyond the configured days freezes holds and suggests no more than what is owed', () => {
    const clock = testClock();
    const t0 = clock();
    const history = [transfer('post', 'debit', 50_000, t0, new Date(t0.getTime() + 30 * DAY))];
    clock.advance(30 * DAY + 40 * DAY + 1);
    const risk = assessRisk({ lineId: LINE, limit: 100_000, outstanding: 50_000, held: 0, createdAt: t0, transfers: history, disputes: 0, now: clock(), overdueFreezeDays: 30 });
    expect(risk).toMatchObject({ daysPastDue: 40, overdue: 50_000, holdsFrozen: true, suggestedLimit: 50_000 });
    expect(risk.factors.find((f) => f.name === 'daysPastDue')).toEqual({ name: 'daysPastDue', value: 40, penalty: 40 });
    expect(risk.factors.find((f) => f.name === 'onTimeRatio')).toEqual({ name: 'onTimeRatio', value: 0, penalty: 30 });
    expect(risk).toMatchObject({ score: 30, level: 'high' }); // 100 - 40 (days past due) - 30 (on time 0%)
  });

  test('a well-used line paid on time is low risk and is suggested a higher limit; a young line with disputes is not', () => {
    const clock = testClock();
    const t0 = clock();
    const history = [
      transfer('post', 'debit', 80_000, t0, new Date(t0.getTime() + 10 * DAY)),
      transfer('payment', 'credit', 80_000, new Date(t0.getTime() + 9 * DAY)),
    ];
    clock.advance(60 * DAY);
    const good = assessRisk({ lineId: LINE, limit: 100_000, outstanding: 0, held: 80_000, createdAt: t0, transfers: history, disputes: 0, now: clock(), overdueFreezeDays: 30 });
    expect(good).toMatchObject({ level: 'low', score: 90, holdsFrozen: false, suggestedLimit: 125_000 });
    const young = assessRisk({ lineId: LINE, limit: 100_000, outstanding: 0, held: 95_000, createdAt: new Date(clock().getTime() - 5 * DAY), transfers: history, disputes: 3, now: clock(), overdueFreezeDays: 30 });
    expect(young.factors.map((f) => [f.name, f.penalty])).toEqual([
      ['utilisation', 20],
      ['onTimeRatio', 0],
      ['daysPastDue', 0],
      ['disputes', 30],
      ['accountAgeDays', 10],
    ]);
    expect(young).toMatchObject({ score: 40, level: 'high', suggestedLimit: 50_000 });
  });

  test('voided and pending transfers owe nothing', () => {
    const clock = testClock();
    const t0 = clock();
    const history = [
      transfer('hold', 'debit', 10_000, t0, null, { pending: true }),
      transfer('void', 'debit', 10_000, t0, null, { resolution: 'void' }),
    ];
    clock.advance(100 * DAY);
    expect(ageDebts(LINE, history, clock())).toMatchObject({ overdue: 0, daysPastDue: 0 });
  });
});
