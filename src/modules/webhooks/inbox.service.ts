import { PermanentJobError, type JobContext, type JobQueue, type JobRunner } from '../../platform/jobs';
import type { EventBus } from '../../platform/events';
import type { Locks } from '../../platform/locks';
import type { Logger } from '../../platform/logger';
import { isDuplicateKey, parseObjectId } from '../../platform/mongo';
import type { HandlerRegistry } from './handler-registry';
import { toInboxEvent } from './webhooks.mapper';
import type { WebhooksConfig } from './webhooks.config';
import { WebhookRefusal, webhooksErrors } from './webhooks.errors';
import type { WebhooksMetrics } from './webhooks.metrics';
import type { AttemptRecord, Provider, WebhookEventDoc, WebhookEventModel } from './webhooks.model';
import type { RawDelivery, Verifier } from './verifiers/types';

export const WEBHOOK_QUEUE = 'webhooks';
const NOTE_MAX = 500;

export interface InboxDeps {
  events: WebhookEventModel;
  verifiers: Partial<Record<Provider, Verifier>>;
  registry: HandlerRegistry;
  jobs: JobRunner;
  locks: Locks;
  bus: EventBus;
  config: WebhooksConfig;
  metrics: WebhooksMetrics;
  logger: Logger;
  clock: () => Date;
}

export interface Receipt {
  id: string;
  duplicate: boolean;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, NOTE_MAX);

/**
 * The inbox: verify → store once under (provider, event id) → enqueue → answer; then the job runs
 * the provider's handler with retries and records every run. The stored record is the truth: the
 * reconciliation enqueues again what is still pending past its deadline.
 */
export function createInboxService(deps: InboxDeps) {
  const { events, registry, locks, bus, config, metrics, logger, clock } = deps;

  const queue: JobQueue<{ id: string }> = deps.jobs.queue<{ id: string }>(WEBHOOK_QUEUE, (data, job) => processJob(data.id, job), {
    concurrency: config.concurrency,
    retry: { attempts: config.retry.attempts, baseDelayMs: config.retry.baseDelayMs, maxDelayMs: config.retry.maxDelayMs, jitter: 0.5 },
  });

  deps.jobs.reconcile(queue, {
    everyMs: config.reconcileEveryMs,
    async findPending(now) {
      const before = new Date(now.getTime() - config.pendingDeadlineMs);
      const pending = await events
        .find({ status: 'pending', receivedAt: { $lt: before } }, { _id: 1 })
        .sort({ receivedAt: 1 })
        .limit(200)
        .lean<Array<{ _id: WebhookEventDoc['_id'] }>>();
      return pending.map((doc) => ({ key: doc._id.toHexString(), data: { id: doc._id.toHexString() } }));
    },
  });

  function isConfigured(provider: Provider): boolean {
    return Boolean(deps.verifiers[provider]);
  }

  function refuse(provider: Provider, refusal: WebhookRefusal): never {
    metrics.refused.inc({ provider, reason: refusal.reason });
    throw refusal;
  }

  async function receive(provider: Provider, delivery: RawDelivery): Promise<Receipt> {
    const verifier = deps.verifiers[provider];
    if (!verifier) refuse(provider, new WebhookRefusal('unconfigured', `Webhooks from ${provider} are not configured on this server`));
    let verified;
    try {
      verified = verifier(delivery);
    } catch (err) {
      if (err instanceof WebhookRefusal) refuse(provider, err);
      throw err;
    }
    const dedupeKey = `${provider}:${verified.eventId}`;
    let id: string;
    try {
      const doc = await events.create({
        provider,
        eventId: verified.eventId,
        dedupeKey,
        type: verified.type,
        receivedAt: delivery.now,
        verification: provider === 'logistics' || provider === 'ai' ? 'standard-webhooks' : provider,
        occurredAt: verified.occurredAt ? new Date(verified.occurredAt) : null,
        headers: verified.headers,
        body: delivery.text,
        status: 'pending',
        note: null,
        attempts: 0,
        attemptLog: [],
        settledAt: null,
      });
      id = doc._id.toHexString();
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      // Already stored by an earlier delivery: answer 2xx and do nothing (its job owns the work).
      metrics.received.inc({ provider, result: 'duplicate' });
      const existing = await events.findOne({ dedupeKey }, { _id: 1 }).lean<{ _id: WebhookEventDoc['_id'] }>();
      return { id: existing ? existing._id.toHexString() : '', duplicate: true };
    }
    metrics.received.inc({ provider, result: 'stored' });
    // A failed enqueue (Redis away) only delays the work: the record is stored, the reconciliation finds it.
    await queue.enqueue(id, { id }).catch((err: unknown) => {
      logger.warn('Webhooks: enqueue failed; the reconciliation will pick the event up', { id, provider, error: message(err) });
    });
    return { id, duplicate: false };
  }

  /** Runs the provider's handler once and records the run; the caller holds the event's lock. */
  async function runOnce(doc: WebhookEventDoc, by: AttemptRecord['by'], final: boolean): Promise<{ doc: WebhookEventDoc; error: unknown }> {
    const lookup = registry.find(doc.provider, doc.type);
    const started = clock();
    let result: AttemptRecord['result'];
    let note: string | null;
    let error: unknown = null;
    if (!lookup.handler) {
      result = 'ignored';
      note = lookup.note;
    } else {
      try {
        const outcome = await lookup.handler(toInboxEvent(doc));
        result = outcome.outcome === 'processed' ? 'processed' : 'ignored';
        note = outcome.note ? outcome.note.slice(0, NOTE_MAX) : null;
      } catch (err) {
        error = err ?? new Error('The handler failed');
        result = 'error';
        note = message(error);
      }
    }
    const now = clock();
    const attempt: AttemptRecord = { at: now, by, result, note, durationMs: Math.max(0, now.getTime() - started.getTime()) };
    const status = result === 'error' ? (final ? 'failed' : 'pending') : result;
    const settled = status !== 'pending';
    const updated = await events
      .findOneAndUpdate(
        { _id: doc._id },
        {
          $set: { status, note, settledAt: settled ? now : doc.settledAt, attempts: doc.attempts + 1 },
          $push: { attemptLog: attempt },
        },
        { new: true },
      )
      .lean<WebhookEventDoc>();
    const current = updated ?? doc;
    if (settled) metrics.settled.inc({ provider: doc.provider, outcome: status });
    if (status === 'failed' && doc.status !== 'failed') {
      bus.publish('webhook.failed', {
        inboxEventId: doc._id.toHexString(),
        provider: doc.provider,
        type: doc.type,
        attempts: current.attempts,
        reason: note ?? 'The handler failed',
        at: now.toISOString(),
      });
    }
    return { doc: current, error };
  }

  const lockKey = (id: string) => `webhook-event:${id}`;

  async function processJob(id: string, job: JobContext): Promise<void> {
    const _id = parseObjectId(id);
    if (!_id) throw new PermanentJobError(`Not an inbox event id: ${id}`);
    const error = await locks.withLock(lockKey(id), async () => {
      const doc = await events.findById(_id).lean<WebhookEventDoc>();
      // Gone, or settled already (a replay, or a run this job's retry overlaps): nothing to do.
      if (!doc || doc.status !== 'pending') return null;
      return (await runOnce(doc, 'job', job.attempt >= job.maxAttempts)).error;
    });
    // Throwing hands the retry (with backoff) to the job runner; on the last attempt the record already says failed.
    if (error) throw error instanceof Error ? error : new Error(String(error));
  }

  async function replay(id: string): Promise<WebhookEventDoc> {
    const _id = parseObjectId(id);
    if (!_id) throw webhooksErrors.eventNotFound();
    return locks.withLock(lockKey(id), async () => {
      const doc = await events.findById(_id).lean<WebhookEventDoc>();
      if (!doc) throw webhooksErrors.eventNotFound();
      return (await runOnce(doc, 'replay', true)).doc;
    });
  }

  return { receive, replay, isConfigured, queue };
}

export type InboxService = ReturnType<typeof createInboxService>;
