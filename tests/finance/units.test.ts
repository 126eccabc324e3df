import { toCsv } from '../../src/modules/finance/csv';
import { effectOf, deriveBalances } from '../../src/modules/finance/ledger';
import type { TransferDoc } from '../../src/modules/finance/finance.model';
import { fromMajorText, toMajorText } from '../../src/modules/finance/providers/money';

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
