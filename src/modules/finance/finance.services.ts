import type { Server as IoServer } from 'socket.io';
import type { AppContext } from '../../platform/context';
import { createLocks } from '../../platform/locks';
import { createCreditService } from './credit.service';
import type { FinanceConfig } from './finance.config';
import { createCreditNotifier } from './finance.events';
import { getFinanceModels } from './finance.model';
import { createLedger, type LedgerFaults } from './ledger';
import { createPaymentsService, type OrdersDirectory } from './payments.service';
import { createProviders } from './providers';
import { createReadsService } from './reads.service';
import { createReconciler } from './reconcile';
import { createRefundsService } from './refunds.service';
import { createWebhookHandlers } from './webhook-handlers';

export interface FinanceServicesDeps {
  ctx: AppContext;
  config: FinanceConfig;
  io: IoServer | null;
  orders?: OrdersDirectory;
  faults?: LedgerFaults;
}

/** Builds finance's services over one connection; the module (index.ts) mounts them. */
export function createFinanceServices(deps: FinanceServicesDeps) {
  const { ctx, config } = deps;
  const models = getFinanceModels(ctx.mongo);
  const locks = createLocks(ctx.mongo);
  const ledger = createLedger({ models, locks, clock: ctx.clock, logger: ctx.logger, lockWaitMs: config.lockWaitMs, lockLeaseMs: config.lockLeaseMs, faults: deps.faults });
  const notify = createCreditNotifier({ events: ctx.events, io: deps.io, clock: ctx.clock });
  const credit = createCreditService({ models, ledger, config, clock: ctx.clock, logger: ctx.logger, notify, orders: deps.orders });
  const reconciler = createReconciler({ models, registry: ctx.metrics.registry, logger: ctx.logger, clock: ctx.clock });
  const providers = createProviders(config);
  const payments = createPaymentsService({ models, ledger, locks, providers, config, clock: ctx.clock, logger: ctx.logger, events: ctx.events, notify, orders: deps.orders });
  const refunds = createRefundsService({ models, ledger, locks, providers, config, clock: ctx.clock, logger: ctx.logger, events: ctx.events, notify });
  const reads = createReadsService({ models, credit, config, clock: ctx.clock });
  const webhooks = createWebhookHandlers({ payments, logger: ctx.logger });
  return { models, ledger, locks, credit, reconciler, providers, payments, refunds, reads, webhooks };
}

export type FinanceServices = ReturnType<typeof createFinanceServices>;
