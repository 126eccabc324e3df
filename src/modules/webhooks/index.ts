import type { AppContext } from '../../platform/context';
import type { AppModule } from '../../platform/module';
import { createLocks } from '../../platform/locks';
import { createAdminHandlers } from './admin.service';
import { createAiHandler } from './ai.handler';
import { createHttpAiProvider, type AiProvider } from './ai-provider';
import { getAiTaskModel } from './ai-tasks.model';
import { createAiTasksService, type AiResultSinks, type AiTasksService, type NotifyUser } from './ai-tasks.service';
import { createHandlerRegistry } from './handler-registry';
import { createInboxService } from './inbox.service';
import { createLogisticsHandler } from './logistics.handler';
import type { WebhooksConfig } from './webhooks.config';
import { createWebhooksMetrics } from './webhooks.metrics';
import { getWebhookEventModel, type Provider } from './webhooks.model';
import { createWebhooksRouter } from './webhooks.routes';
import type { AiTasksPort, ShipmentsPort, WebhookHandlers, WebhooksAdmin } from './webhooks.types';
import { payuVerifier } from './verifiers/payu';
import { razorpayVerifier } from './verifiers/razorpay';
import { standardWebhooksVerifier } from './verifiers/standard-webhooks';
import { stripeVerifier } from './verifiers/stripe';
import { twilioVerifier } from './verifiers/twilio';
import type { Verifier } from './verifiers/types';

// The webhook inbox's contract. Other modules import only from here (a lint rule enforces it).
export type {
  WebhookProvider,
  InboxEvent,
  WebhookOutcome,
  WebhookHandler,
  WebhookHandlers,
  WebhooksAdmin,
  WebhookEventListQuery,
  WebhookEventSummary,
  WebhookEventDetail,
  WebhookEventPage,
  WebhookAttemptView,
  ShipmentUpdate,
  ShipmentsPort,
  CarrierStatus,
  AiTaskResult,
  AiTasksPort,
} from './webhooks.types';
export { CARRIER_STATUSES } from './webhooks.types';
export { WEBHOOK_PROVIDERS, WEBHOOK_STATUSES } from './webhooks.model';
export { WEBHOOKS_ERROR_CODES, type WebhooksErrorCode } from './webhooks.errors';
export { readWebhooksConfig, type WebhooksConfig } from './webhooks.config';
export { webhookEventListSchema, webhookEventIdParam } from './webhooks.schemas';
export type { AiProvider } from './ai-provider';
export type { AiTaskView, AiResultSinks, AiTasksService, CatalogueDocument, NotifyUser } from './ai-tasks.service';
export { AI_TASKS, type AiTaskKind } from './ai-tasks.model';

export interface WebhooksModule extends AppModule {
  /** Where finance, notifications… register their provider's handler (at composition). */
  handlers: WebhookHandlers;
  /** List, get and replay stored events: mounted by the admin module under /api/admin/webhooks. */
  admin: WebhooksAdmin;
  /**
   * Asynchronous AI work (translate a chat message, extract a catalogue from an uploaded document):
   * chat and offers call it after their own access checks; the provider's signed callback comes
   * back through POST /api/webhooks/ai. Without AI_PROVIDER_URL, starting a task is 503.
   */
  aiTasks: Pick<AiTasksService, 'startTranslation' | 'startCatalogueExtraction' | 'get'>;
}

export interface WebhooksModuleDeps {
  ctx: AppContext;
  config: WebhooksConfig;
  /** The offers module's shipment timeline; without it logistics events are stored and ignored. */
  shipments?: ShipmentsPort;
  /** Replaces the inbox's own AI task matching (aiTasks) as the 'ai' handler's port. */
  ai?: AiTasksPort;
  /** Where finished AI results go: chat (translation shown to the requester), offers (draft offer from extracted items). */
  aiSinks?: AiResultSinks;
  /** Emits to a user's devices (the composition root: io.to('user:<id>').emit(event, payload)). */
  notifyUser?: NotifyUser;
  /** The AI provider; by default HTTP to AI_PROVIDER_URL (tests may pass their own). */
  aiProvider?: AiProvider;
}

function buildVerifiers(config: WebhooksConfig): Partial<Record<Provider, Verifier>> {
  const verifiers: Partial<Record<Provider, Verifier>> = {};
  if (config.stripe.secret) verifiers.stripe = stripeVerifier(config.stripe.secret, config.stripe.toleranceSeconds);
  if (config.razorpay.secret) verifiers.razorpay = razorpayVerifier(config.razorpay.secret);
  if (config.payu.merchantKey && config.payu.merchantSalt) verifiers.payu = payuVerifier(config.payu.merchantKey, config.payu.merchantSalt);
  if (config.twilio.authToken && config.twilio.publicBaseUrl) verifiers.twilio = twilioVerifier(config.twilio.authToken, config.twilio.publicBaseUrl);
  if (config.logistics.secrets.length) verifiers.logistics = standardWebhooksVerifier(config.logistics.secrets, config.timestampToleranceSeconds);
  if (config.ai.secrets.length) verifiers.ai = standardWebhooksVerifier(config.ai.secrets, config.timestampToleranceSeconds);
  return verifiers;
}

export function createWebhooksModule(deps: WebhooksModuleDeps): WebhooksModule {
  const { ctx, config } = deps;
  const events = getWebhookEventModel(ctx.mongo);
  const registry = createHandlerRegistry();
  const metrics = createWebhooksMetrics(ctx.metrics.registry);
  // A handler may call a payment API: the lease is renewed while it runs, so only a dead process waits it out.
  const locks = createLocks(ctx.mongo, { leaseMs: 10_000, waitMs: 15_000 });
  const inbox = createInboxService({
    events,
    verifiers: buildVerifiers(config),
    registry,
    jobs: ctx.jobs,
    locks,
    bus: ctx.events,
    config,
    metrics,
    logger: ctx.logger,
    clock: ctx.clock,
  });
  if (deps.shipments) registry.register('logistics', createLogisticsHandler(deps.shipments));
  const aiTasks = createAiTasksService({
    tasks: getAiTaskModel(ctx.mongo),
    provider: deps.aiProvider ?? (config.ai.providerUrl ? createHttpAiProvider({ url: config.ai.providerUrl }) : null),
    callbackUrl: `${(config.publicBaseUrl ?? ctx.config.mail.appUrl).replace(/\/+$/, '')}/api/webhooks/ai`,
    sinks: deps.aiSinks ?? {},
    notify: deps.notifyUser ?? null,
    locks,
    logger: ctx.logger,
    clock: ctx.clock,
  });
  registry.register('ai', createAiHandler(deps.ai ?? aiTasks.port));
  return {
    name: 'webhooks',
    http: createWebhooksRouter({ inbox, metrics, bodyLimitBytes: config.bodyLimitBytes, clock: ctx.clock }),
    handlers: { register: registry.register },
    admin: createAdminHandlers({ events, inbox }),
    aiTasks: { startTranslation: aiTasks.startTranslation, startCatalogueExtraction: aiTasks.startCatalogueExtraction, get: aiTasks.get },
  };
}
