import type { RequestHandler } from 'express';
import type { AppContext } from '../../platform/context';
import type { AppModule } from '../../platform/module';
import type { MessageAccess } from '../chat';
import type { OwnUploads, SignedDownloads } from '../uploads';
import type { AiResultSinks, WebhooksModule } from '../webhooks';
import { getAiDraftModel } from './ai.model';
import { createAiRouter } from './ai.routes';
import { createAiService } from './ai.service';

// The AI module's contract. Other modules import only from here (a lint rule enforces it).
export { AI_ERROR_CODES, type AiErrorCode } from './ai.errors';
export type { DraftOffer, DraftOfferItem } from './draft-offer';

export interface AiModule extends AppModule {
  /** The webhook inbox's result sinks (createWebhooksModule's `aiSinks`). */
  sinks: AiResultSinks;
}

/**
 * REST entry points for AI work: translate a chat message, extract a catalogue from an uploaded
 * document (its items come back as a draft offer), read one's own task. The webhook inbox runs
 * the task; the sinks are given to it at composition, and its tasks service is given here once
 * the inbox exists (the routes use it only while serving requests).
 */
export function createAiModule(deps: {
  ctx: AppContext;
  requireAuth: RequestHandler;
  /** The inbox's AI tasks; called only while serving requests, so a forwarder set after composition is fine. */
  tasks: WebhooksModule['aiTasks'];
  /** Whether AI_PROVIDER_URL is set (the webhooks config): without it starting a task is 503 PROVIDER_UNAVAILABLE. */
  configured: boolean;
  messages: MessageAccess;
  /** Ownership checks and the signed link the provider reads a catalogue document through. */
  uploads: OwnUploads & SignedDownloads;
}): AiModule {
  const { ctx } = deps;
  const service = createAiService({
    tasks: deps.tasks,
    configured: deps.configured,
    messages: deps.messages,
    uploads: deps.uploads,
    drafts: getAiDraftModel(ctx.mongo),
    logger: ctx.logger,
    clock: ctx.clock,
  });
  return { name: 'ai', http: createAiRouter(service, deps.requireAuth), sinks: service.sinks };
}
