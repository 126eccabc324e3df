import type { FinanceModule } from '../../src/modules/finance';
import { startTestServer, type TestServer } from '../helpers/server';
import { createUser, type TestUser } from '../helpers/users';

export const RAZORPAY = { keyId: 'rzp_test_key123', keySecret: 'rzp_test_secret456', webhookSecret: 'rzp_webhook_secret' };
export const PAYU = { key: 'payukey1', salt: 'payusalt1' };
export const STRIPE_WEBHOOK_SECRET = 'whsec_test_finance_secret';

/** The provider settings every finance test runs with: stripe-mock for Stripe; tests point Razorpay and PayU at a local stub. */
export function financeEnv(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    STRIPE_SECRET_KEY: 'sk_test_finance',
    STRIPE_API_URL: process.env.STRIPE_MOCK_URL,
    STRIPE_WEBHOOK_SECRET,
    RAZORPAY_KEY_ID: RAZORPAY.keyId,
    RAZORPAY_KEY_SECRET: RAZORPAY.keySecret,
    RAZORPAY_WEBHOOK_SECRET: RAZORPAY.webhookSecret,
    PAYU_MERCHANT_KEY: PAYU.key,
    PAYU_MERCHANT_SALT: PAYU.salt,
    PAYU_API_URL: 'https://payu.test',
    // Concurrency tests queue 100 writers on one account; under a loaded machine that can take longer than the default 30 s.
    FINANCE_LOCK_WAIT_MS: '120000',
    ...overrides,
  };
}

export function financeOf(app: TestServer): FinanceModule {
  const found = app.server.modules.find((m) => m.name === 'finance');
  if (!found) throw new Error('the finance module is not mounted');
  return found as FinanceModule;
}

export interface FinanceWorld {
  app: TestServer;
  finance: FinanceModule;
  buyer: TestUser;
  vendor: TestUser;
  admin: TestUser;
  stranger: TestUser;
}

export async function startFinanceWorld(options: { env?: Record<string, string | undefined>; clock?: () => Date } = {}): Promise<FinanceWorld> {
  const app = await startTestServer({ env: financeEnv(options.env), clock: options.clock });
  const [buyer, vendor, admin, stranger] = await Promise.all([
    createUser(app),
    createUser(app, { role: 'vendor' }),
    createUser(app, { role: 'admin' }),
    createUser(app),
  ]);
  return { app, finance: financeOf(app), buyer, vendor, admin, stranger };
}

interface RawAccount {
  _id: string;
  currency: string;
  debitsPending: number;
  debitsPosted: number;
  creditsPending: number;
  creditsPosted: number;
  lastSeq: number;
}
interface RawTransfer {
  _id: string;
  debitAccountId: string;
  creditAccountId: string;
  amount: number;
  currency: string;
  pending: boolean;
  resolution: 'post' | 'void' | null;
  debitSeq: number;
  creditSeq: number;
}

/**
 * The ledger's invariants, recomputed here independently of the module's own reconciler: every
 * account's four balances equal the sum of its transfers, its transfers are numbered 1..lastSeq
 * without a gap, and in each currency posted and pending debits equal credits across all accounts.
 */
export async function expectLedgerConsistent(app: TestServer): Promise<void> {
  const accounts = await app.ctx.mongo.collection<RawAccount>('finance_accounts').find({}).toArray();
  const transfers = await app.ctx.mongo.collection<RawTransfer>('finance_transfers').find({}).toArray();
  const expected = new Map<string, { debitsPending: number; debitsPosted: number; creditsPending: number; creditsPosted: number; seqs: number[] }>();
  const at = (id: string) => {
    const found = expected.get(id) ?? { debitsPending: 0, debitsPosted: 0, creditsPending: 0, creditsPosted: 0, seqs: [] };
    expected.set(id, found);
    return found;
  };
  for (const t of transfers) {
    const d = at(t.debitAccountId);
    const c = at(t.creditAccountId);
    d.seqs.push(t.debitSeq);
    c.seqs.push(t.creditSeq);
    if (t.pending) {
      d.debitsPending += t.amount;
      c.creditsPending += t.amount;
    } else if (t.resolution === 'post') {
      d.debitsPending -= t.amount;
      d.debitsPosted += t.amount;
      c.creditsPending -= t.amount;
      c.creditsPosted += t.amount;
    } else if (t.resolution === 'void') {
      d.debitsPending -= t.amount;
      c.creditsPending -= t.amount;
    } else {
      d.debitsPosted += t.amount;
      c.creditsPosted += t.amount;
    }
  }
  const sums = new Map<string, { posted: number; pending: number }>();
  for (const a of accounts) {
    const e = at(a._id);
    expect({ id: a._id, debitsPending: a.debitsPending, debitsPosted: a.debitsPosted, creditsPending: a.creditsPending, creditsPosted: a.creditsPosted }).toEqual({
      id: a._id,
      debitsPending: e.debitsPending,
      debitsPosted: e.debitsPosted,
      creditsPending: e.creditsPending,
      creditsPosted: e.creditsPosted,
    });
    expect({ id: a._id, seqs: [...e.seqs].sort((x, y) => x - y) }).toEqual({ id: a._id, seqs: Array.from({ length: a.lastSeq }, (_, i) => i + 1) });
    expect(a.debitsPending).toBeGreaterThanOrEqual(0);
    expect(a.creditsPending).toBeGreaterThanOrEqual(0);
    const s = sums.get(a.currency) ?? { posted: 0, pending: 0 };
    s.posted += a.debitsPosted - a.creditsPosted;
    s.pending += a.debitsPending - a.creditsPending;
    sums.set(a.currency, s);
  }
  for (const [currency, s] of sums) expect({ currency, ...s }).toEqual({ currency, posted: 0, pending: 0 });
}
