import { randomBytes } from 'node:crypto';
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../../platform/logger';
import type { AccountDoc, FinanceModels, ReconciliationDoc, TransferDoc } from './finance.model';
import { effectOf } from './ledger';

const FIELDS = ['debitsPending', 'debitsPosted', 'creditsPending', 'creditsPosted', 'lastSeq'] as const;

function gauge(registry: Registry, name: string, help: string): Gauge {
  return (registry.getSingleMetric(name) as Gauge | undefined) ?? new Gauge({ name, help, registers: [registry] });
}

type Derived = { debitsPending: number; debitsPosted: number; creditsPending: number; creditsPosted: number; lastSeq: number; count: number; debits: number };

/**
 * Recomputes every account from the transfers and compares: each stored balance must equal the
 * sum of the account's transfers, its transfers must be numbered 1..lastSeq (as many transfers as
 * lastSeq), and in each currency debits and credits must cancel out.
 * A difference is reported in /metrics (finance_ledger_differences), in the log as an error, and
 * in finance_reconciliations, which admins read through FinanceAdmin.lastReconciliation().
 * An unapplied transfer counts as a difference until repair applies it (repair runs first).
 *
 * It streams: one cursor over the accounts, and per account two cursors over its transfers
 * (equality on debitAccountId / creditAccountId, the first keys of the unique numbering indexes),
 * folded into running sums, so memory holds one batch and one account's sums, never the ledger.
 * An account that a writer moved while it was being read is read once more before it counts as
 * a difference.
 */
export function createReconciler(deps: { models: FinanceModels; registry: Registry; logger: Logger; clock: () => Date; batchSize?: number }) {
  const differencesGauge = gauge(deps.registry, 'finance_ledger_differences', 'Account balances that differ from the sum of their transfers at the last reconciliation');
  const unbalancedGauge = gauge(deps.registry, 'finance_ledger_unbalanced_currencies', 'Currencies whose transfers did not sum to zero at the last reconciliation');
  const lastRunGauge = gauge(deps.registry, 'finance_ledger_reconciled_at_seconds', 'When the ledger was last reconciled (Unix time)');
  const batchSize = deps.batchSize ?? 500;
  const { Account, Transfer } = deps.models;

  async function derive(accountId: string): Promise<Derived> {
    const out: Derived = { debitsPending: 0, debitsPosted: 0, creditsPending: 0, creditsPosted: 0, lastSeq: 0, count: 0, debits: 0 };
    for (const side of ['debit', 'credit'] as const) {
      const seqField = side === 'debit' ? 'debitSeq' : 'creditSeq';
      const cursor = Transfer.find({ [`${side}AccountId`]: accountId })
        .select({ amount: 1, pending: 1, resolution: 1, [seqField]: 1 })
        .lean<TransferDoc[]>()
        .cursor({ batchSize });
      for await (const t of cursor as AsyncIterable<TransferDoc>) {
        const e = effectOf(t, side);
        out.debitsPending += e.debitsPending;
        out.debitsPosted += e.debitsPosted;
        out.creditsPending += e.creditsPending;
        out.creditsPosted += e.creditsPosted;
        out.lastSeq = Math.max(out.lastSeq, t[seqField]);
        out.count += 1;
        if (side === 'debit') out.debits += 1;
      }
    }
    return out;
  }

  function compare(account: AccountDoc, d: Derived): ReconciliationDoc['differences'] {
    const found: ReconciliationDoc['differences'] = [];
    for (const field of FIELDS) {
      if (account[field] !== d[field]) found.push({ accountId: account._id, field, stored: account[field], derived: d[field] });
    }
    // Numbers are unique per side; as many transfers as the highest number means no gap and no number used twice.
    if (d.count !== d.lastSeq) found.push({ accountId: account._id, field: 'transferCount', stored: d.lastSeq, derived: d.count });
    return found;
  }

  async function run(): Promise<ReconciliationDoc> {
    const differences: ReconciliationDoc['differences'] = [];
    let differenceCount = 0;
    let accounts = 0;
    let transfers = 0;
    const sums = new Map<string, { posted: number; pending: number }>();
    const cursor = Account.find({}).lean<AccountDoc[]>().cursor({ batchSize });
    for await (const first of cursor as AsyncIterable<AccountDoc>) {
      let account = first;
      let derived = await derive(account._id);
      let found = compare(account, derived);
      if (found.length > 0) {
        const again = await Account.findById(account._id).lean<AccountDoc>();
        if (again && again.lastSeq !== account.lastSeq) {
          account = again;
          derived = await derive(account._id);
          found = compare(account, derived);
        }
      }
      accounts += 1;
      transfers += derived.debits;
      differenceCount += found.length;
      for (const d of found) if (differences.length < 1_000) differences.push(d);
      const sum = sums.get(account.currency) ?? { posted: 0, pending: 0 };
      sum.posted += account.debitsPosted - account.creditsPosted;
      sum.pending += account.debitsPending - account.creditsPending;
      sums.set(account.currency, sum);
    }
    const unbalancedCurrencies = [...sums].filter(([, s]) => s.posted !== 0 || s.pending !== 0).map(([currency]) => currency);
    const doc: ReconciliationDoc = {
      _id: `${deps.clock().toISOString()}:${randomBytes(3).toString('hex')}`,
      at: deps.clock(),
      accounts,
      // Each transfer counted once, on its debit side.
      transfers,
      differences,
      unbalancedCurrencies,
    };
    await deps.models.Reconciliation.collection.insertOne(doc as never);
    differencesGauge.set(differenceCount);
    unbalancedGauge.set(unbalancedCurrencies.length);
    lastRunGauge.set(Math.floor(doc.at.getTime() / 1000));
    if (differenceCount || unbalancedCurrencies.length) {
      deps.logger.error('Finance: the ledger does not reconcile', { differences: differenceCount, unbalancedCurrencies });
    }
    return doc;
  }

  async function last(): Promise<ReconciliationDoc | null> {
    return deps.models.Reconciliation.findOne({}).sort({ at: -1 }).lean<ReconciliationDoc>();
  }

  return { run, last };
}

export type Reconciler = ReturnType<typeof createReconciler>;
