import { randomBytes } from 'node:crypto';
import { AppError, errors } from '../../platform/errors';
import type { Locks } from '../../platform/locks';
import type { Logger } from '../../platform/logger';
import { parseObjectId } from '../../platform/mongo';
import type { AiProvider } from './ai-provider';
import type { AiTaskDoc, AiTaskKind, AiTaskModel } from './ai-tasks.model';
import type { AiTaskResult, AiTasksPort } from './webhooks.types';

export interface AiTaskView {
  id: string;
  task: AiTaskKind;
  requesterId: string;
  subjectId: string;
  input: Record<string, string>;
  status: AiTaskDoc['status'];
  output: unknown;
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
}

/** Where a finished task's result goes: chat shows a translation to its requester; offers turns extracted items into a draft offer. Idempotent per task id. */
/**
 * Where a finished task's result goes (the AI module applies them). A sink may return what the
 * requester is told in `ai:task_completed` instead of the provider's raw output (e.g. a draft offer).
 */
export interface AiResultSinks {
  translate_message?(task: AiTaskView): Promise<unknown>;
  extract_catalogue?(task: AiTaskView): Promise<unknown>;
}

/** The document a catalogue extraction reads: a signed link the provider can fetch without a session. */
export interface CatalogueDocument {
  url: string;
  expiresAt: string;
  mimeType: string;
  fileName: string;
}

/** Tells a user about their task (the composition root wires it to the socket room `user:<id>`). */
export type NotifyUser = (userId: string, event: 'ai:task_completed', payload: Record<string, unknown>) => void;

export function toAiTaskView(doc: AiTaskDoc): AiTaskView {
  return {
    id: doc._id.toHexString(),
    task: doc.task,
    requesterId: doc.requesterId,
    subjectId: doc.subjectId,
    input: { ...(doc.input ?? {}) },
    status: doc.status,
    output: doc.output === null ? null : (JSON.parse(doc.output) as unknown),
    error: doc.error ?? null,
    createdAt: doc.createdAt.toISOString(),
    finishedAt: doc.finishedAt ? doc.finishedAt.toISOString() : null,
  };
}

/**
 * Asynchronous AI work: record the task under a random correlation id, ask the provider, and when
 * its signed callback arrives (through the inbox's 'ai' handler) apply it once: the sink first (so a
 * failing sink is retried by the inbox job while the task is still running), then the record, then
 * the requester's socket event. A callback for an unknown or finished task is ignored (and the
 * inbox records that).
 */
export function createAiTasksService(deps: {
  tasks: AiTaskModel;
  provider: AiProvider | null;
  callbackUrl: string;
  sinks: AiResultSinks;
  notify: NotifyUser | null;
  locks: Locks;
  logger: Logger;
  clock: () => Date;
}) {
  const { tasks, locks, clock } = deps;

  /** `input` is recorded on the task and sent; `transient` (a signed link, say) is sent to the provider only, never stored. */
  async function start(task: AiTaskKind, requesterId: string, subjectId: string, input: Record<string, string>, transient: Record<string, string> = {}): Promise<AiTaskView> {
    if (!deps.provider) throw errors.serviceUnavailable('AI features are not configured on this server');
    const doc = await tasks.create({
      correlationId: randomBytes(16).toString('hex'),
      task,
      requesterId,
      subjectId,
      input,
      status: 'running',
      output: null,
      error: null,
      createdAt: clock(),
      finishedAt: null,
    });
    try {
      await deps.provider.startTask({ correlationId: doc.correlationId, task, input: { ...input, ...transient, subjectId }, callbackUrl: deps.callbackUrl });
    } catch (err) {
      deps.logger.warn('AI: the provider did not take a task', { taskId: doc._id.toHexString(), error: err instanceof Error ? err.message : String(err) });
      await tasks.updateOne({ _id: doc._id }, { $set: { status: 'failed', error: 'The AI provider is unavailable', finishedAt: clock() } });
      throw new AppError('SERVICE_UNAVAILABLE', 'The AI provider is unavailable, try again shortly', 503);
    }
    return toAiTaskView(doc.toObject());
  }

  const port: AiTasksPort = {
    async applyAiResult(result: AiTaskResult) {
      const found = await tasks.findOne({ correlationId: result.correlationId }, { _id: 1 }).lean<{ _id: AiTaskDoc['_id'] }>();
      if (!found) return 'ignored';
      return locks.withLock(`ai-task:${found._id.toHexString()}`, async () => {
        const doc = await tasks.findById(found._id).lean<AiTaskDoc>();
        if (!doc || doc.status !== 'running' || doc.task !== result.task) return 'ignored';
        const finished: AiTaskDoc = {
          ...doc,
          status: result.status,
          output: result.status === 'succeeded' ? JSON.stringify(result.output ?? null) : null,
          error: result.status === 'failed' ? (result.error ?? 'The AI task failed') : null,
          finishedAt: clock(),
        };
        const view = toAiTaskView(finished);
        const shaped = result.status === 'succeeded' ? await deps.sinks[doc.task]?.(view) : undefined;
        await tasks.updateOne({ _id: doc._id }, { $set: { status: finished.status, output: finished.output, error: finished.error, finishedAt: finished.finishedAt } });
        deps.notify?.(doc.requesterId, 'ai:task_completed', {
          taskId: view.id,
          task: view.task,
          subjectId: view.subjectId,
          status: view.status,
          output: shaped === undefined ? view.output : shaped,
          error: view.error,
          at: view.finishedAt,
        });
        return 'processed';
      });
    },
  };

  return {
    /**
     * Translates a chat message for the requester. The caller (the AI module) checks through chat's
     * contract that the requester may read it, and passes its text: the provider gets what it translates.
     */
    startTranslation: (requesterId: string, messageId: string, targetLanguage: string, text?: string) =>
      start('translate_message', requesterId, messageId, text === undefined ? { targetLanguage } : { targetLanguage, text }),
    /**
     * Reads a catalogue out of an uploaded document. The caller (the AI module) checks ownership and
     * passes the document: its type and name are recorded; the signed download link the provider
     * fetches it through (`documentUrl`, valid until `documentExpiresAt`) is sent, never stored.
     */
    startCatalogueExtraction: (requesterId: string, uploadId: string, document?: CatalogueDocument) =>
      start(
        'extract_catalogue',
        requesterId,
        uploadId,
        document ? { mimeType: document.mimeType, fileName: document.fileName } : {},
        document ? { documentUrl: document.url, documentExpiresAt: document.expiresAt } : {},
      ),
    /** The requester's own task; NOT_FOUND for anyone else's. */
    async get(taskId: string, requesterId: string): Promise<AiTaskView> {
      const _id = parseObjectId(taskId);
      const doc = _id ? await tasks.findOne({ _id, requesterId }).lean<AiTaskDoc>() : null;
      if (!doc) throw errors.notFound('AI task');
      return toAiTaskView(doc);
    },
    port,
  };
}

export type AiTasksService = ReturnType<typeof createAiTasksService>;
