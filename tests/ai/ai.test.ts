import type { Socket } from 'socket.io-client';
import { startTestServer, type TestServer } from '../helpers/server';
import { bearer, createUser, type TestUser } from '../helpers/users';
import { CHAT_TEST_ENV, clientId, directConversation, nextEvent, openSocket } from '../chat/chat-helpers';
import { makeImage, tempUploadDir, uploadFile } from '../uploads/media';
import { secrets, testSecretsEnv, until } from '../webhooks/harness';
import { startAiPeer, type AiPeer, type TaskRequest } from './peer';

// The catalogue the uploader sends: two good rows and three the draft must drop (no name, a
// fractional price, a zero quantity). The peer reads it through the signed link and extracts each row.
const CATALOGUE_CSV = [
  'sku;name;price;quantity;unit',
  'BR-25;  Basmati rice 25 kg ;180000;10;bag',
  'TD-1;Toor dal;14500;;',
  'X-1;;100;;',
  'GH-1;Ghee 1 L;649.5;;',
  'SL-1;Salt;2000;0;',
].join('\n');

/** What the local provider "extracts" from a semicolon-separated catalogue it downloaded. */
function itemsOf(csv: string) {
  const optional = (value: string | undefined) => (value ? value : undefined);
  return csv
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(';'))
    .map(([sku, name, price, quantity, unit]) => ({ sku: optional(sku), name: optional(name), unitPrice: Number(price), quantity: quantity ? Number(quantity) : undefined, unit: optional(unit) }));
}

describe('AI entry points: translate a message, extract a catalogue into a draft offer', () => {
  let app: TestServer;
  let peer: AiPeer;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let messageId: string;
  let documentId: string;

  beforeAll(async () => {
    peer = await startAiPeer(
      () => app.url,
      async (request: TaskRequest, tools) => {
        if (request.task === 'translate_message') {
          return { type: 'ai.task.succeeded', data: { correlationId: request.correlationId, task: request.task, output: { text: `[${request.input.targetLanguage}] namaste` } } };
        }
        // The provider has no session: it reads the document through the signed link, or fails the task.
        const document = await tools.fetchDocument(request.input.documentUrl ?? '');
        if (document.status !== 200) throw new Error(`The document could not be read (${document.status})`);
        return { type: 'ai.task.succeeded', data: { correlationId: request.correlationId, task: request.task, output: { currency: 'INR', items: itemsOf(document.body.toString()) } } };
      },
    );
    app = await startTestServer({ env: { ...CHAT_TEST_ENV, ...testSecretsEnv, AI_PROVIDER_URL: peer.url, UPLOAD_DIR: await tempUploadDir() } });
    [alice, bob, carol] = [await createUser(app), await createUser(app), await createUser(app)];
    const conversationId = await directConversation(app, alice, bob);
    const sent = await app.api.post(`/api/chat/conversations/${conversationId}/messages`).set('Authorization', bearer(alice)).send({ clientMessageId: clientId(), text: 'Hello, the rice is ready' });
    expect(sent.status).toBe(201);
    messageId = sent.body.data.id;
    const upload = await uploadFile(app, alice.accessToken, 'document', Buffer.from(CATALOGUE_CSV), 'catalogue.csv', 'text/csv');
    expect(upload.status).toBe(201);
    documentId = upload.body.data.id;
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await peer?.close();
  });

  const post = (user: TestUser, path: string, body: unknown) => app.api.post(path).set('Authorization', bearer(user)).send(body as object);
  const getTask = (user: TestUser, id: string) => app.api.get(`/api/ai/tasks/${id}`).set('Authorization', bearer(user));

  it('translates a message for a participant: 202 running, the provider called back signed, the requester told and the task readable', async () => {
    let socket: Socket | null = null;
    try {
      socket = await openSocket(app.url, bob);
      const completed = nextEvent(socket, 'ai:task_completed', undefined, 15_000);
      const res = await post(bob, '/api/ai/translations', { messageId, targetLanguage: 'hi' });
      expect(res.status).toBe(202);
      expect(res.body.data).toMatchObject({ task: 'translate_message', status: 'running', requesterId: bob.id, subjectId: messageId, input: { targetLanguage: 'hi', text: 'Hello, the rice is ready' }, output: null });
      // The provider is given the text it translates, not only an id it could not resolve.
      expect(peer.received.at(-1)).toMatchObject({ task: 'translate_message', input: { targetLanguage: 'hi', subjectId: messageId, text: 'Hello, the rice is ready' } });
      expect(await completed).toMatchObject({ taskId: res.body.data.id, task: 'translate_message', status: 'succeeded', output: { text: '[hi] namaste' } });
      const task = await getTask(bob, res.body.data.id);
      expect(task.status).toBe(200);
      expect(task.body.data).toMatchObject({ id: res.body.data.id, status: 'succeeded', output: { text: '[hi] namaste' }, finishedAt: expect.any(String) });
      // Nothing is stored in chat: the conversation still has the one message.
      const messages = await app.ctx.mongo.collection('chat_messages').countDocuments({});
      expect(messages).toBe(1);
    } finally {
      socket?.disconnect();
    }
  });

  it("extracts the uploader's document, read by the provider through a signed link, into a draft offer: good rows normalised, the rest dropped and counted", async () => {
    const socket = await openSocket(app.url, alice);
    const completed = nextEvent<{ output: unknown }>(socket, 'ai:task_completed', (event) => (event as { task?: string }).task === 'extract_catalogue', 15_000);
    const res = await post(alice, '/api/ai/catalogue-extractions', { uploadId: documentId });
    expect(res.status).toBe(202);
    expect(res.body.data).toMatchObject({ task: 'extract_catalogue', status: 'running', subjectId: documentId, input: { mimeType: 'text/csv; charset=utf-8', fileName: 'catalogue.csv' } });
    // The link is sent to the provider, never stored on the task or shown.
    expect(res.body.data.input.documentUrl).toBeUndefined();
    const sent = peer.received.at(-1) as TaskRequest;
    expect(sent.input.documentUrl).toMatch(new RegExp(`^${secrets.publicBaseUrl}/api/upload/${documentId}/signed-content\\?expires=[0-9]+&signature=[A-Za-z0-9_-]{43}$`));
    expect(Date.parse(sent.input.documentExpiresAt ?? '')).toBeGreaterThan(Date.now());
    await until(async () => (await getTask(alice, res.body.data.id)).body.data.status === 'succeeded', 'extraction finished');
    // The provider read the uploaded bytes, with no session, through that link.
    expect(peer.fetched.at(-1)).toMatchObject({ url: sent.input.documentUrl, status: 200 });
    expect(peer.fetched.at(-1)?.body.toString()).toBe(CATALOGUE_CSV);
    const task = await getTask(alice, res.body.data.id);
    // The uploader's socket is told the draft offer, the same as the task shows, not the provider's raw items.
    const announced = (await completed).output;
    socket.disconnect();
    expect(announced).toEqual(task.body.data.output);
    expect(task.body.data.output).toEqual({
      draftOffer: {
        currency: 'INR',
        items: [
          { name: 'Basmati rice 25 kg', sku: 'BR-25', quantity: 10, unit: 'bag', unitPrice: 180000 },
          { name: 'Toor dal', sku: 'TD-1', quantity: 1, unit: 'unit', unitPrice: 14500 },
        ],
      },
      droppedItems: 3,
    });
    expect(await app.ctx.mongo.collection('ai_drafts').countDocuments({ taskId: res.body.data.id })).toBe(1);
  });

  it('a stranger gets 404 for the message, for the upload and for the task; an upload that is not a document is 400', async () => {
    expect((await post(carol, '/api/ai/translations', { messageId, targetLanguage: 'ta' })).status).toBe(404);
    // Bob may read the message but the upload is Alice's.
    const notHis = await post(bob, '/api/ai/catalogue-extractions', { uploadId: documentId });
    expect(notHis.status).toBe(404);
    expect(notHis.body.error.code).toBe('NOT_FOUND');
    const mine = await post(alice, '/api/ai/translations', { messageId, targetLanguage: 'en-GB' });
    expect(mine.status).toBe(202);
    expect((await getTask(carol, mine.body.data.id)).status).toBe(404);
    expect((await getTask(bob, mine.body.data.id)).status).toBe(404);
    expect((await getTask(alice, '0123456789abcdef01234567')).status).toBe(404);
    const image = await uploadFile(app, alice.accessToken, 'image', await makeImage(20, 20, 'png'), 'x.png');
    expect(image.status).toBe(201);
    const notDocument = await post(alice, '/api/ai/catalogue-extractions', { uploadId: image.body.data.id });
    expect(notDocument.status).toBe(400);
    expect(notDocument.body.error.details).toEqual([expect.objectContaining({ field: 'uploadId' })]);
  });

  it.each([
    ['/api/ai/translations', { targetLanguage: 'hi' }, 'messageId'],
    ['/api/ai/translations', { messageId: 'not-an-id', targetLanguage: 'hi' }, 'messageId'],
    ['/api/ai/translations', { messageId: '0123456789abcdef01234567', targetLanguage: 'hindi please' }, 'targetLanguage'],
    ['/api/ai/translations', { messageId: '0123456789abcdef01234567', targetLanguage: ['hi'] }, 'targetLanguage'],
    ['/api/ai/translations', { messageId: '0123456789abcdef01234567' }, 'targetLanguage'],
    ['/api/ai/catalogue-extractions', {}, 'uploadId'],
    ['/api/ai/catalogue-extractions', { uploadId: 12345 }, 'uploadId'],
  ])('POST %s with %j is 400 VALIDATION_FAILED naming %s', async (path, body, field) => {
    const res = await post(alice, path, body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
  });

  it('a bad task id is 400 and no token is 401', async () => {
    expect((await getTask(alice, 'nope')).status).toBe(400);
    expect((await app.api.post('/api/ai/translations').send({ messageId, targetLanguage: 'hi' })).status).toBe(401);
  });
});

describe('AI entry points without AI_PROVIDER_URL', () => {
  it('answer 503 PROVIDER_UNAVAILABLE and record nothing', async () => {
    const app = await startTestServer({ env: { ...CHAT_TEST_ENV, UPLOAD_DIR: await tempUploadDir() } });
    try {
      const user = await createUser(app);
      for (const [path, body] of [
        ['/api/ai/translations', { messageId: '0123456789abcdef01234567', targetLanguage: 'hi' }],
        ['/api/ai/catalogue-extractions', { uploadId: '0123456789abcdef01234567' }],
      ] as const) {
        const res = await app.api.post(path).set('Authorization', bearer(user)).send(body);
        expect(res.status).toBe(503);
        expect(res.body.error.code).toBe('PROVIDER_UNAVAILABLE');
      }
      expect(await app.ctx.mongo.collection('webhook_ai_tasks').countDocuments({})).toBe(0);
    } finally {
      await app.close();
    }
  }, 60_000);
});

describe('AI catalogue extraction on a server that cannot sign download links', () => {
  it('answers 503 before a task is recorded or the provider asked (the provider could not read the document)', async () => {
    const peer = await startAiPeer(() => app.url, () => null);
    const app = await startTestServer({ env: { ...CHAT_TEST_ENV, ...testSecretsEnv, UPLOAD_SIGNING_SECRET: undefined, AI_PROVIDER_URL: peer.url, UPLOAD_DIR: await tempUploadDir() } });
    try {
      const user = await createUser(app);
      const upload = await uploadFile(app, user.accessToken, 'document', Buffer.from(CATALOGUE_CSV), 'catalogue.csv', 'text/csv');
      expect(upload.status).toBe(201);
      const res = await app.api.post('/api/ai/catalogue-extractions').set('Authorization', bearer(user)).send({ uploadId: upload.body.data.id });
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('SERVICE_UNAVAILABLE');
      expect(await app.ctx.mongo.collection('webhook_ai_tasks').countDocuments({})).toBe(0);
      expect(peer.received).toHaveLength(0);
    } finally {
      await app.close();
      await peer.close();
    }
  }, 60_000);
});
