import type { AiTaskResult, AiTasksPort, InboxEvent, WebhookHandler } from './webhooks.types';

/**
 * An AI provider's Standard Webhooks body: `{ type: "ai.task.succeeded" | "ai.task.failed",
 * timestamp, data: { correlationId, task, output?, error? } }`, as the result the task's owner
 * matches to the task it started.
 */
export function toAiTaskResult(event: InboxEvent): AiTaskResult | string {
  const body = event.payload as { type?: unknown; timestamp?: unknown; data?: unknown };
  const data = body && typeof body.data === 'object' && body.data !== null ? (body.data as Record<string, unknown>) : null;
  if (!data) return 'The body has no data object';
  const status = body.type === 'ai.task.succeeded' ? 'succeeded' : body.type === 'ai.task.failed' ? 'failed' : null;
  if (!status) return 'type must be ai.task.succeeded or ai.task.failed';
  if (typeof data.correlationId !== 'string' || !data.correlationId || data.correlationId.length > 200) return 'correlationId is required';
  if (typeof data.task !== 'string' || !data.task || data.task.length > 100) return 'task is required';
  return {
    correlationId: data.correlationId,
    task: data.task,
    status,
    output: data.output ?? null,
    error: typeof data.error === 'string' ? data.error.slice(0, 500) : null,
    at: event.occurredAt ?? event.receivedAt,
    eventId: event.eventId,
  };
}

export function createAiHandler(tasks: AiTasksPort): WebhookHandler {
  return async (event) => {
    const result = toAiTaskResult(event);
    if (typeof result === 'string') return { outcome: 'ignored', note: `Not an AI task result: ${result}` };
    const applied = await tasks.applyAiResult(result);
    return applied === 'processed' ? { outcome: 'processed' } : { outcome: 'ignored', note: 'No running task has this correlation id' };
  };
}
