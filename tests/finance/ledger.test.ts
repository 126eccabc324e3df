import { readFinanceConfig } from '../../src/modules/finance';
import { createFinanceServices } from '../../src/modules/finance/finance.services';
import { EnvReader } from '../../src/platform/config';
import { Registry } from 'prom-client';
import { getFinanceModels } from '../../src/modules/finance/finance.model';
import { createReconciler } from '../../src/modules/finance/reconcile';
import { bearer, createUser } from '../helpers/users';
import { expectLedgerConsistent, financeEnv, startFinanceWorld, type FinanceWorld } from './finance-helpers';

let w: FinanceWorld;

beforeAll(async () => {
  w = await startFinanceWorld();
});
afterAll(async () => {
  await w.app.close();
});
afterEach(async () => {
  await w.app.ctx.events.drain();
  await expectLedgerConsistent(w.app);
});

const lineId = (buyerId: string, vendorId: string) => `line:${buyerId}:${vendorId}:INR`;

/** A second instance of finance's services over the same database whose ledger "crashes" after storing a transfer. */
function crashingFinance() {
  const crash = { armed: true };
  const services = createFinanceServices({
    ctx: w.app.ctx,
    config: readFinanceConfig(new EnvReader(financeEnv())),
    io: null,
    faults: {
      afterInsert: () => {
        if (crash.armed) throw new Error('simulated crash between the transfer and its application');
      },
    },
  });
  return { services, crash };
}

async function account(id: string) {
  return w.app.ctx.mongo.collection<{ _id: string; debitsPending: number; lastSeq: number }>('finance_accounts').findOne({ _id: id });
}

describe('the ledger after a crash', () => {
  test('a transfer stored but not applied is found and applied by the repair (start-up and schedule)', async () => {
    const buyer = await createUser(w.app);
    await w.finance.admin.setLimit({ buyerId: buyer.id, vendorId: w.vendor.id, currency: 'INR', limit: 100_000, actorId: w.admin.id });
    const { services } = crashingFinance();
    await expect(
      services.credit.hold({ offerId: 'crash-1', buyerId: buyer.id, vendorId: w.vendor.id, amount: { amount: 40_000, currency: 'INR' }, creditDays: 30, actorId: buyer.id }),
    ).rejects.toThrow('simulated crash');
    const stale = await account(lineId(buyer.id, w.vendor.id));
    expect(stale).toMatchObject({ debitsPending: 0, lastSeq: 0 });
    expect(await w.app.ctx.mongo.collection('finance_transfers').countDocuments({ _id: 'hold:crash-1' as never })).toBe(1);

    const done = await w.finance.repair();
    expect(done.transfers).toBeGreaterThanOrEqual(2); // the line's side and the vendor account's side
    expect(await account(lineId(buyer.id, w.vendor.id))).toMatchObject({ debitsPending: 40_000, lastSeq: 1 });
    expect((await w.finance.repair()).transfers).toBe(0);
    // The offer's retry of the same hold changes nothing.
    await w.finance.creditHolds.hold({ offerId: 'crash-1', buyerId: buyer.id, vendorId: w.vendor.id, amount: { amount: 40_000, currency: 'INR' }, creditDays: 30, actorId: buyer.id });
    expect(await account(lineId(buyer.id, w.vendor.id))).toMatchObject({ debitsPending: 40_000, lastSeq: 1 });
  });

  test('the next write on the account finishes the crashed transfer before its own check, so the limit still holds', async () => {
    const buyer = await createUser(w.app);
    await w.finance.admin.setLimit({ buyerId: buyer.id, vendorId: w.vendor.id, currency: 'INR', limit: 100_000, actorId: w.admin.id });
    const { services } = crashingFinance();
    await expect(
      services.credit.hold({ offerId: 'crash-2', buyerId: buyer.id, vendorId: w.vendor.id, amount: { amount: 70_000, currency: 'INR' }, creditDays: 30, actorId: buyer.id }),
    ).rejects.toThrow('simulated crash');
    // Stored balances still say 100,000 available; the ledger knows 70,000 is held.
    await expect(
      w.finance.creditHolds.hold({ offerId: 'after-crash', buyerId: buyer.id, vendorId: w.vendor.id, amount: { amount: 40_000, currency: 'INR' }, creditDays: 30, actorId: buyer.id }),
    ).rejects.toMatchObject({ code: 'CREDIT_LIMIT_EXCEEDED' });
    await w.finance.creditHolds.hold({ offerId: 'after-crash-ok', buyerId: buyer.id, vendorId: w.vendor.id, amount: { amount: 30_000, currency: 'INR' }, creditDays: 30, actorId: buyer.id });
    expect(await account(lineId(buyer.id, w.vendor.id))).toMatchObject({ debitsPending: 100_000, lastSeq: 2 });
    await w.finance.repair(); // the vendor account's side of crash-2, if no later write touched it first
  });

  test('reconciliation reports a balance that differs from its transfers, in its record and in /metrics', async () => {
    const buyer = await createUser(w.app);
    await w.finance.admin.setLimit({ buyerId: buyer.id, vendorId: w.vendor.id, currency: 'INR', limit: 10_000, actorId: w.admin.id });
    await w.finance.creditHolds.hold({ offerId: 'recon-1', buyerId: buyer.id, vendorId: w.vendor.id, amount: { amount: 5_000, currency: 'INR' }, creditDays: 30, actorId: buyer.id });
    const clean = await w.finance.admin.reconcile();
    expect(clean.differences).toEqual([]);
    expect(clean.unbalancedCurrencies).toEqual([]);
    const accounts = w.app.ctx.mongo.collection<{ _id: string; debitsPending: number }>('finance_accounts');
    await accounts.updateOne({ _id: lineId(buyer.id, w.vendor.id) }, { $set: { debitsPending: 4_000 } });
    try {
      const report = await w.finance.admin.reconcile();
      expect(report.differences).toEqual([{ accountId: lineId(buyer.id, w.vendor.id), field: 'debitsPending', stored: 4_000, derived: 5_000 }]);
      expect(report.unbalancedCurrencies).toEqual(['INR']);
      expect((await w.finance.admin.lastReconciliation())?._id).toBe(report._id);
      const metrics = await w.app.api.get('/metrics');
      expect(metrics.text).toMatch(/^finance_ledger_differences 1$/m);
    } finally {
      await accounts.updateOne({ _id: lineId(buyer.id, w.vendor.id) }, { $set: { debitsPending: 5_000 } });
    }
    expect((await w.finance.admin.reconcile()).differences).toEqual([]);
  });

  test('reconciliation streams in small batches with the same report, and finds a transfer numbered twice', async () => {
    const buyer = await createUser(w.app);
    const id = lineId(buyer.id, w.vendor.id);
    await w.finance.admin.setLimit({ buyerId: buyer.id, vendorId: w.vendor.id, currency: 'INR', limit: 10_000, actorId: w.admin.id });
    for (let i = 0; i < 5; i += 1) {
      await w.finance.creditHolds.hold({ offerId: `stream-${buyer.id}-${i}`, buyerId: buyer.id, vendorId: w.vendor.id, amount: { amount: 1_000, currency: 'INR' }, creditDays: 30, actorId: buyer.id });
    }
    const registry = new Registry();
    // Batches of 2: every account's transfers and the accounts themselves cross batch boundaries.
    const small = createReconciler({ models: getFinanceModels(w.app.ctx.mongo), registry, logger: w.app.ctx.logger, clock: () => new Date(), batchSize: 2 });
    const whole = await w.finance.admin.reconcile();
    const streamed = await small.run();
    expect(streamed).toMatchObject({ accounts: whole.accounts, transfers: whole.transfers, differences: [], unbalancedCurrencies: [] });
    const rawTransfers = await w.app.ctx.mongo.collection('finance_transfers').countDocuments({});
    expect(streamed.transfers).toBe(rawTransfers);
    expect(await registry.metrics()).toMatch(/^finance_ledger_differences 0$/m);

    // A line whose last transfer's number is taken twice on its two sides (an overtaken lock): counts differ from lastSeq.
    const transfersCol = w.app.ctx.mongo.collection<{ _id: string; debitAccountId: string; creditAccountId: string; debitSeq: number; creditSeq: number; amount: number; pending: boolean; resolution: null; currency: string }>('finance_transfers');
    const fake = { _id: `test-dup-${buyer.id}`, kind: 'adjustment', debitAccountId: 'clearing:test:INR', creditAccountId: id, amount: 0, currency: 'INR', pending: false, resolution: null, debitSeq: 1, creditSeq: 5 };
    await transfersCol.insertOne(fake as never);
    try {
      const report = await small.run();
      expect(report.differences).toEqual([{ accountId: id, field: 'transferCount', stored: 5, derived: 6 }]);
      expect(await registry.metrics()).toMatch(/^finance_ledger_differences 1$/m);
    } finally {
      await transfersCol.deleteOne({ _id: fake._id });
    }
    for (let i = 0; i < 5; i += 1) await w.finance.creditHolds.release(`stream-${buyer.id}-${i}`, 'cleanup');
  });

  test('a stranger sees 404 for a line and its transactions; parties see their own', async () => {
    const buyer = await createUser(w.app);
    await w.finance.admin.setLimit({ buyerId: buyer.id, vendorId: w.vendor.id, currency: 'INR', limit: 10_000, actorId: w.admin.id });
    const id = lineId(buyer.id, w.vendor.id);
    expect((await w.app.api.get(`/api/finance/accounts/${id}`).set('Authorization', bearer(w.stranger))).status).toBe(404);
    expect((await w.app.api.get('/api/finance/transactions').query({ account: id }).set('Authorization', bearer(w.stranger))).status).toBe(404);
    const mine = await w.app.api.get(`/api/finance/accounts/${id}`).set('Authorization', bearer(buyer));
    expect(mine.status).toBe(200);
    expect(mine.body.data).toMatchObject({ role: 'buyer', limit: { amount: 10_000, currency: 'INR' }, available: { amount: 10_000 } });
    const theirs = await w.app.api.get('/api/finance/accounts').set('Authorization', bearer(w.vendor));
    expect((theirs.body.data as Array<{ id: string; role: string }>).find((a) => a.id === id)?.role).toBe('vendor');
    const none = await w.app.api.get('/api/finance/accounts').set('Authorization', bearer(w.stranger));
    expect(none.body).toEqual({ data: [], page: { nextCursor: null, limit: 20 } });
  });

  test('bad inputs are 400 VALIDATION_FAILED', async () => {
    const auth = bearer(w.buyer);
    expect((await w.app.api.get('/api/finance/accounts/nope').set('Authorization', auth)).body.error.code).toBe('VALIDATION_FAILED');
    expect((await w.app.api.get('/api/finance/transactions').query({ kind: 'gift' }).set('Authorization', auth)).status).toBe(400);
    expect((await w.app.api.get('/api/finance/transactions').query({ cursor: 'garbage' }).set('Authorization', auth)).status).toBe(400);
    expect((await w.app.api.get('/api/finance/statements').query({ from: 'yesterday', to: '2026-01-01T00:00:00Z' }).set('Authorization', auth)).status).toBe(400);
    expect((await w.app.api.get('/api/finance/summary').query({ currency: 'inr' }).set('Authorization', auth)).status).toBe(400);
    expect((await w.app.api.get('/api/finance/accounts')).status).toBe(401);
  });
});
