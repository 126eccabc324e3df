import { randomBytes } from 'node:crypto';
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../../platform/logger';
import type { AccountDoc, FinanceModels, ReconciliationDoc, TransferDoc } from './finance.model';
import { deriveBalances } from './ledger';

const FIELDS = ['debitsPending', 'debitsPosted', 'creditsPending', 'creditsPosted', 'lastSeq'] as const;

function gauge(registry: Registry, name: string, help: string): Gauge {
  return (registry.getSingleMetric(name) as Gauge | undefined) ?? new Gauge({ name, help, registers: [registry] });
}

/**
 * Recomputes every account from the transfers and compares: each stored balance must equal the
 * sum of the account's transfers, and in each currency debits and credits must cancel out.
 * A difference is reported in /metrics (finance_ledger_differences), in the log as an error, and
 * in finance_reconciliations, which admins read through FinanceAdmin.lastReconciliation().
 * An unapplied transfer counts as a difference until repair applies it (repair runs first).
 */
export function createReconciler(deps: { models: FinanceModels; registry: Registry; logger: Logger; clock: () => Date }) {
  const differencesGauge = gauge(deps.registry, 'finance_ledger_differences', 'Account balances that differ from the sum of their transfers at the last reconciliation');
  const unbalancedGauge = gauge(deps.registry, 'finance_ledger_unbalanced_currencies', 'Currencies whose transfers did not sum to zero at the last reconciliation');
  const lastRunGauge = gauge(deps.registry, 'finance_ledger_reconciled_at_seconds', 'When the ledger was last reconciled (Unix time)');

  async function run(): Promise<ReconciliationDoc> {
    const [accounts, transfers] = await Promise.all([
      deps.models.Account.find({}).lean<AccountDoc[]>(),
      deps.models.Transfer.find({}).lean<TransferDoc[]>(),
    ]);
    const derived = deriveBalances(transfers);
    const differences: ReconciliationDoc['differences'] = [];
    const sums = new Map<string, { posted: number; pending: number }>();
    for (const account of accounts) {
      const d = derived.get(account._id) ?? { debitsPending: 0, debitsPosted: 0, creditsPending: 0, creditsPosted: 0, lastSeq: 0 };
      for (const field of FIELDS) {
        if (account[field] !== d[field]) differences.push({ accountId: account._id, field, stored: account[field], derived: d[field] });
      }
      const sum = sums.get(account.currency) ?? { posted: 0, pending: 0 };
      sum.posted += account.debitsPosted - account.creditsPosted;
      sum.pending += account.debitsPending - account.creditsPending;
      sums.set(account.currency, sum);
    }
    const unbalancedCurrencies = [...sums].filter(([, s]) => s.posted !== 0 || s.pending !== 0).map(([currency]) => currency);
    const doc: ReconciliationDoc = {
      _id: `${deps.clock().toISOString()}:${randomBytes(3).toString('hex')}`,
      at: deps.clock(),
      accounts: accounts.length,
      transfers: transfers.length,
      differences: differences.slice(0, 1_000),
      unbalancedCurrencies,
    };
    await deps.models.Reconciliation.collection.insertOne(doc as never);
    differencesGauge.set(differences.length);
    unbalancedGauge.set(unbalancedCurrencies.length);
    lastRunGauge.set(Math.floor(doc.at.getTime() / 1000));
    if (differences.length || unbalancedCurrencies.length) {
      deps.logger.error('Finance: the ledger does not reconcile', { differences: differences.length, unbalancedCurrencies });
    }
    return doc;
  }

  async function last(): Promise<ReconciliationDoc | null> {
    return deps.models.Reconciliation.findOne({}).sort({ at: -1 }).lean<ReconciliationDoc>();
  }

  return { run, last };
}

export type Reconciler = ReturnType<typeof createReconciler>;
