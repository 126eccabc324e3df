import { toCsv } from '../../src/modules/finance/csv';
import { effectOf, deriveBalances } from '../../src/modules/finance/ledger';
import type { TransferDoc } from '../../src/modules/finance/finance.model';
import { fromMajorText, toMajorText } from '../../src/modules/finance/providers/money';
import { deliveryDeadline, holdExpiresAt } from '../../src/modules/finance/hold-expiry';
import { testClock } from '../helpers/clock';

describe('finance pure parts', () => {
  test('CSV: every field quoted, quotes doubled, CRLF, formula-leading text defused', () => {
    expect(toCsv(['a', 'b'], [['x"y', 3], ['=SUM(A1)', null], ['-1', true], ['line\nbreak', '+x']])).toBe(
      '"a","b"\r\n"x""y","3"\r\n"\'=SUM(A1)",""\r\n"\'-1","true"\r\n"line\nbreak","\'+x"\r\n',
    );
  });

  test('provider decimal text and minor units convert exactly both ways', () => {
    expect(toMajorText(15_050, 'INR')).toBe('150.50');
    expect(toMajorText(5, 'INR')).toBe('0.05');
    expect(toMajorText(1_000, 'JPY')).toBe('1000');
    expect(fromMajorText('150.50', 'INR')).toBe(15_050);
    expect(fromMajorText('150.5', 'INR')).toBe(15_050);
    expect(fromMajorText('150', 'INR')).toBe(15_000);
    expect(fromMajorText('0.1', 'INR')).toBe(10);
    expect(fromMajorText('1e3', 'INR')).toBeNull();
    expect(fromMajorText('-1.00', 'INR')).toBeNull();
    expect(fromMajorText('1.005', 'INR')).toBeNull();
    expect(fromMajorText('1000', 'JPY')).toBe(1_000);
    expect(fromMajorText('1000.50', 'JPY')).toBeNull();
  });

  test('a transfer\'s effect on each side, and balances derived from a history', () => {
    const base = { amount: 100, pending: false, resolution: null } as const;
    expect(effectOf({ ...base, pending: true }, 'debit')).toEqual({ debitsPending: 100, debitsPosted: 0, creditsPending: 0, creditsPosted: 0 });
    expect(effectOf({ ...base, resolution: 'post' }, 'credit')).toEqual({ debitsPending: 0, debitsPosted: 0, creditsPending: -100, creditsPosted: 100 });
    expect(effectOf({ ...base, resolution: 'void' }, 'debit')).toEqual({ debitsPending: -100, debitsPosted: 0, creditsPending: 0, creditsPosted: 0 });
    const t = (id: string, over: Partial<TransferDoc>): TransferDoc => ({ _id: id, debitAccountId: 'A', creditAccountId: 'B', amount: 100, pending: false, resolution: null, debitSeq: 1, creditSeq: 1, ...over }) as TransferDoc;
    const derived = deriveBalances([t('h', { pending: true }), t('p', { resolution: 'post', debitSeq: 2, creditSeq: 2 }), t('x', { debitAccountId: 'C', creditAccountId: 'A', amount: 40, debitSeq: 1, creditSeq: 3 })]);
    expect(derived.get('A')).toEqual({ debitsPending: 0, debitsPosted: 100, creditsPending: 0, creditsPosted: 40, lastSeq: 3 });
    expect(derived.get('B')).toEqual({ debitsPending: 0, debitsPosted: 0, creditsPending: 0, creditsPosted: 100, lastSeq: 2 });
  });
});

describe('hold expiry from the order\'s delivery terms (test clock)', () => {
  const DAY = 86_400_000;
  const clock = testClock();

  test('delivery.date: the end of that UTC day; leadTimeDays: acceptance + the days; both: the later; neither: null', () => {
    const acceptedAt = new Date(Date.UTC(2026, 0, 10, 15, 30));
    expect(deliveryDeadline({ date: '2026-01-20' }, acceptedAt)?.toISOString()).toBe('2026-01-21T00:00:00.000Z');
    expect(deliveryDeadline({ leadTimeDays: 10 }, acceptedAt)?.toISOString()).toBe('2026-01-20T15:30:00.000Z');
    expect(deliveryDeadline({ date: '2026-01-15', leadTimeDays: 10 }, acceptedAt)?.toISOString()).toBe('2026-01-20T15:30:00.000Z');
    expect(deliveryDeadline({ date: '2026-02-01', leadTimeDays: 10 }, acceptedAt)?.toISOString()).toBe('2026-02-02T00:00:00.000Z');
    expect(deliveryDeadline({ date: null, leadTimeDays: null }, acceptedAt)).toBeNull();
    expect(deliveryDeadline({ date: 'soon' }, acceptedAt)).toBeNull();
    expect(deliveryDeadline(null, acceptedAt)).toBeNull();
  });

  test('a hold expires the grace days after its deadline, or after placement while its order is unknown', () => {
    const placedAt = clock();
    const deadlineAt = new Date(placedAt.getTime() + 20 * DAY);
    const expiresAt = holdExpiresAt({ deadlineAt, placedAt, graceDays: 3 });
    expect(expiresAt.getTime()).toBe(placedAt.getTime() + 23 * DAY);
    expect(holdExpiresAt({ deadlineAt: null, placedAt, graceDays: 3 }).getTime()).toBe(placedAt.getTime() + 3 * DAY);
  });
});
