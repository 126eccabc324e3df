import { errors } from '../../platform/errors';
import { isDuplicateKey } from '../../platform/mongo';
import type { Logger } from '../../platform/logger';
import type { MessageAccess } from '../chat';
import type { OwnUploads, SignedDownloads } from '../uploads';
import type { AiResultSinks, AiTaskView, WebhooksModule } from '../webhooks';
import { aiErrors } from './ai.errors';
import type { AiDraftDoc, AiDraftModel } from './ai.model';
import { toDraftOffer } from './draft-offer';

export interface AiServiceDeps {
  /** The webhook inbox's AI tasks: records the task, asks the provider, applies its signed callback. */
  tasks: WebhooksModule['aiTasks'];
  /** False when AI_PROVIDER_URL is not set: every start is 503 PROVIDER_UNAVAILABLE. */
  configured: boolean;
  messages: MessageAccess;
  /** Ownership, and the signed link the provider reads the document through. */
  uploads: OwnUploads & SignedDownloads;
  drafts: AiDraftModel;
  logger: Logger;
  clock: () => Date;
}

/**
 * The AI entry points: access is checked through chat's and uploads' contracts (someone who may
 * not see the message or does not own the upload is told NOT_FOUND, as for an unknown id), then
 * the task is started in the webhook inbox. A catalogue extraction's items come back as a draft
 * offer (stored once per task by the sink; the task's output is it).
 */
export function createAiService(deps: AiServiceDeps) {
  const { tasks, drafts, clock } = deps;

  function requireConfigured() {
    if (!deps.configured) throw aiErrors.providerUnavailable();
  }

  async function withDraft(view: AiTaskView): Promise<AiTaskView> {
    if (view.task !== 'extract_catalogue' || view.status !== 'succeeded') return view;
    const draft = await drafts.findOne({ taskId: view.id }, { draftOffer: 1, droppedItems: 1 }).lean<Pick<AiDraftDoc, 'draftOffer' | 'droppedItems'>>();
    return draft ? { ...view, output: { draftOffer: draft.draftOffer, droppedItems: draft.droppedItems } } : view;
  }

  const sinks: AiResultSinks = {
    // A translation is not stored in chat: the requester sees it in ai:task_completed and GET /api/ai/tasks/:id.
    translate_message: async () => undefined,
    async extract_catalogue(task) {
      const { draftOffer, droppedItems } = toDraftOffer(task.output);
      if (droppedItems) deps.logger.info('AI: catalogue items dropped from a draft offer', { taskId: task.id, kept: draftOffer.items.length, droppedItems });
      try {
        await drafts.create({ taskId: task.id, requesterId: task.requesterId, uploadId: task.subjectId, draftOffer, droppedItems, createdAt: clock() });
      } catch (err) {
        // Retried by the inbox job after a crash between this insert and the task's record: stored already.
        if (!isDuplicateKey(err)) throw err;
      }
      // What the uploader is told in ai:task_completed, as GET /api/ai/tasks/:id shows it.
      return { draftOffer, droppedItems };
    },
  };

  return {
    sinks,
    async startTranslation(userId: string, messageId: string, targetLanguage: string): Promise<AiTaskView> {
      requireConfigured();
      const message = await deps.messages.messageAccess(messageId, userId);
      if (!message) throw errors.notFound('Message');
      if (!message.text) throw errors.validation([{ field: 'messageId', message: 'The message has no text to translate' }]);
      return tasks.startTranslation(userId, messageId, targetLanguage, message.text);
    },
    async startCatalogueExtraction(userId: string, uploadId: string): Promise<AiTaskView> {
      requireConfigured();
      const upload = await deps.uploads.ownUpload(uploadId, userId);
      if (!upload) throw errors.notFound('Upload');
      if (upload.kind !== 'document') throw errors.validation([{ field: 'uploadId', message: 'A catalogue is extracted from a document upload (PDF, DOCX, XLSX or CSV)' }]);
      // The provider holds no session: it fetches the document through a short-lived signed link
      // (SERVICE_UNAVAILABLE before anything is recorded when the server cannot sign links).
      const link = deps.uploads.signedDownloadUrl(uploadId);
      return tasks.startCatalogueExtraction(userId, uploadId, { url: link.url, expiresAt: link.expiresAt, mimeType: upload.mimeType, fileName: upload.fileName });
    },
    /** The requester's own task (NOT_FOUND for anyone else's); a finished extraction's output is its draft offer. */
    async get(taskId: string, userId: string): Promise<AiTaskView> {
      return withDraft(await tasks.get(taskId, userId));
    },
  };
}

export type AiService = ReturnType<typeof createAiService>;
