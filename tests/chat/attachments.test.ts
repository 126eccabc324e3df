import { startTestServer, type TestServer } from '../helpers/server';
import { bearer, type TestUser } from '../helpers/users';
import { makeImage, tempUploadDir, uploadFile } from '../uploads/media';
import { CHAT_TEST_ENV, clientId, directConversation, users } from './chat-helpers';

describe('messages with attachments (chat + uploads)', () => {
  let app: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let conversationId: string;

  beforeAll(async () => {
    app = await startTestServer({ env: { ...CHAT_TEST_ENV, UPLOAD_DIR: await tempUploadDir() } });
    [alice, bob, carol] = (await users(app, 3)) as [TestUser, TestUser, TestUser];
    conversationId = await directConversation(app, alice, bob);
  });
  afterAll(() => app.close());

  const send = (user: TestUser, body: Record<string, unknown>) =>
    app.api.post(`/api/chat/conversations/${conversationId}/messages`).set('Authorization', bearer(user)).send(body);

  it("stores the sender's upload on an image message and lets the other participant, and nobody else, fetch it", async () => {
    const upload = await uploadFile(app, alice.accessToken, 'image', await makeImage(64, 48, 'png'), 'sample.png');
    expect(upload.status).toBe(201);
    const uploadId = upload.body.data.id as string;
    const sent = await send(alice, { clientMessageId: clientId(), type: 'image', text: 'the sample', attachmentIds: [uploadId] }).expect(201);
    expect(sent.body.data.attachments).toEqual([
      expect.objectContaining({ uploadId, kind: 'image', mimeType: 'image/png', width: 64, height: 48, url: expect.any(String) }),
    ]);
    const url = sent.body.data.attachments[0].url as string;
    await app.api.get(url).set('Authorization', bearer(bob)).expect(200);
    const outsider = await app.api.get(url).set('Authorization', bearer(carol));
    expect(outsider.status).toBe(404);
  });

  it("refuses someone else's upload id, storing no message", async () => {
    const upload = await uploadFile(app, alice.accessToken, 'image', await makeImage(16, 16, 'png'), 'mine.png');
    expect(upload.status).toBe(201);
    const stolen = await send(bob, { clientMessageId: clientId(), type: 'image', attachmentIds: [upload.body.data.id] });
    expect(stolen.status).toBe(404);
    expect(stolen.body.error.code).toBe('NOT_FOUND');
    const listed = await app.api.get(`/api/chat/conversations/${conversationId}/messages`).set('Authorization', bearer(bob)).expect(200);
    expect(listed.body.data.every((m: { senderId: string }) => m.senderId === alice.id)).toBe(true);
  });
});
