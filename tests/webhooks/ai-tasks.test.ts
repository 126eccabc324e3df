import type { AiTaskView } from '../../src/modules/webhooks';
import { getAiTaskModel } from '../../src/modules/webhooks/ai-tasks.model';
import { startAiPeer, type AiPeer, type TaskRequest } from '../ai/peer';
import { secrets, standardDelivery, startInbox, until, type Inbox } from './harness';

describe('AI tasks: started through the provider interface, matched to the signed callback, applied once', () => {
  let inbox: Inbox;
  let peer: AiPeer;
  const applied: AiTaskView[] = [];
  const notified: Array<{ userId: string; event: string; payload: Record<string, unknown> }> = [];

  beforeAll(async () => {
    peer = await startAiPeer(
      () => inbox.url,
      (request) =>
        request.task === 'translate_message'
          ? { type: 'ai.task.succeeded', data: { correlationId: request.correlationId, task: request.task, output: { text: `[${request.input.targetLanguage}] namaste` } } }
          : { type: 'ai.task.succeeded', data: { correlationId: request.correlationId, task: request.task, output: { items: [{ name: 'Basmati rice 25 kg', unitPrice: { amount: 180000, currency: 'INR' } }] } } },
    );
    inbox = await startInbox({
      env: { AI_PROVIDER_URL: peer.url },
      aiSinks: {
        translate_message: async (task) => void applied.push(task),
        extract_catalogue: async (task) => void applied.push(task),
      },
      notifyUser: (userId, event, payload) => notified.push({ userId, event, payload }),
    });
  });
  afterAll(async () => {
    await inbox.close();
    await peer.close();
  });

  it('translates a message: the task is recorded, the provider called with a correlation id, the callback applied and the requester told', async () => {
    const task = await inbox.module.aiTasks.startTranslation('user-a', 'message-1', 'hi');
    expect(task).toMatchObject({ task: 'translate_message', status: 'running', requesterId: 'user-a', subjectId: 'message-1' });
    const request = peer.received.at(-1) as TaskRequest;
    expect(request).toMatchObject({ task: 'translate_message', input: { targetLanguage: 'hi', subjectId: 'message-1' }, callbackUrl: `${secrets.publicBaseUrl}/api/webhooks/ai` });
    expect(request.correlationId).toMatch(/^[0-9a-f]{32}$/);
    await until(async () => (await inbox.module.aiTasks.get(task.id, 'user-a')).status === 'succeeded', 'task finished');
    expect(await inbox.module.aiTasks.get(task.id, 'user-a')).toMatchObject({ output: { text: '[hi] namaste' }, finishedAt: expect.any(String) });
    expect(applied.filter((t) => t.id === task.id)).toHaveLength(1);
    expect(notified.filter((n) => n.payload.taskId === task.id)).toEqual([
      {
        userId: 'user-a',
        event: 'ai:task_completed',
        payload: { taskId: task.id, task: 'translate_message', subjectId: 'message-1', status: 'succeeded', output: { text: '[hi] namaste' }, error: null, at: expect.any(String) },
      },
    ]);
  });

  it('extracts a catalogue from an upload and hands the items to the catalogue sink (offers: a draft offer)', async () => {
    const document = { url: `${secrets.publicBaseUrl}/api/upload/upload-1/signed-content?expires=1&signature=s`, expiresAt: '2026-12-01T10:10:00.000Z', mimeType: 'text/csv; charset=utf-8', fileName: 'catalogue.csv' };
    const task = await inbox.module.aiTasks.startCatalogueExtraction('user-b', 'upload-1', document);
    // The provider is given the signed link to read; the task records only the document's type and name.
    expect((peer.received.at(-1) as TaskRequest).input).toEqual({ subjectId: 'upload-1', documentUrl: document.url, documentExpiresAt: document.expiresAt, mimeType: document.mimeType, fileName: 'catalogue.csv' });
    expect(task.input).toEqual({ mimeType: document.mimeType, fileName: 'catalogue.csv' });
    expect(JSON.stringify(await getAiTaskModel(inbox.ctx.mongo).findById(task.id).lean())).not.toContain('signed-content');
    await until(async () => (await inbox.module.aiTasks.get(task.id, 'user-b')).status === 'succeeded', 'task finished');
    expect(applied.find((t) => t.id === task.id)?.output).toEqual({ items: [{ name: 'Basmati rice 25 kg', unitPrice: { amount: 180000, currency: 'INR' } }] });
  });

  it("a callback for a finished or unknown task is ignored and recorded; another user's task is NOT_FOUND", async () => {
    const task = await inbox.module.aiTasks.startTranslation('user-c', 'message-2', 'ta');
    await until(async () => (await inbox.module.aiTasks.get(task.id, 'user-c')).status === 'succeeded', 'task finished');
    const { correlationId } = peer.received.at(-1) as TaskRequest;
    const again = standardDelivery({ type: 'ai.task.succeeded', data: { correlationId, task: 'translate_message', output: { text: 'other' } } }, { secret: secrets.ai });
    const res = await inbox.post('/api/webhooks/ai', again.body, again.headers);
    expect(res.status).toBe(200);
    await until(async () => (await inbox.module.admin.get(res.body.data.id)).outcome === 'ignored', 'ignored');
    expect((await inbox.module.admin.get(res.body.data.id)).note).toBe('No running task has this correlation id');
    expect((await inbox.module.aiTasks.get(task.id, 'user-c')).output).toEqual({ text: '[ta] namaste' });
    expect(applied.filter((t) => t.id === task.id)).toHaveLength(1);
    await expect(inbox.module.aiTasks.get(task.id, 'user-a')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('a provider that refuses the task answers 503 and the task is recorded failed', async () => {
    peer.failWith(500);
    try {
      await expect(inbox.module.aiTasks.startTranslation('user-d', 'message-3', 'hi')).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503 });
    } finally {
      peer.failWith(202);
    }
    const recorded = await getAiTaskModel(inbox.ctx.mongo).findOne({ subjectId: 'message-3' }).lean();
    expect(recorded).toMatchObject({ status: 'failed', error: 'The AI provider is unavailable', requesterId: 'user-d' });
  });
});

describe('AI tasks without AI_PROVIDER_URL', () => {
  it('refuses to start a task with 503', async () => {
    const inbox = await startInbox();
    try {
      await expect(inbox.module.aiTasks.startTranslation('u', 'm', 'hi')).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    } finally {
      await inbox.close();
    }
  });
});
