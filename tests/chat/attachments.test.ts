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

  it('refuses an upload of another kind than the message type and leaves the upload untouched', async () => {
    const upload = await uploadFile(app, alice.accessToken, 'image', await makeImage(20, 20, 'png'), 'photo.png');
    expect(upload.status).toBe(201);
    const uploadId = upload.body.data.id as string;
    const wrongKind = await send(alice, { clientMessageId: clientId(), type: 'voice', attachmentIds: [uploadId] });
    expect(wrongKind.status).toBe(400);
    expect(wrongKind.body.error.details).toEqual([{ field: 'attachmentIds', message: 'Every attachment of a voice message must be a voice upload' }]);
    // Not marked as sent: the other participant cannot fetch it and the owner may still delete it.
    const fetched = await app.api.get(`/api/upload/${uploadId}`).set('Authorization', bearer(bob));
    expect(fetched.status).toBe(404);
    await app.api.delete(`/api/upload/${uploadId}`).set('Authorization', bearer(alice)).expect(204);
  });

  it('carries the file name a document message needs', async () => {
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
    const upload = await uploadFile(app, alice.accessToken, 'document', pdf, 'Invoice 42.pdf');
    expect(upload.status).toBe(201);
    const sent = await send(alice, { clientMessageId: clientId(), type: 'document', attachmentIds: [upload.body.data.id] }).expect(201);
    expect(sent.body.data.attachments[0]).toMatchObject({ kind: 'document', mimeType: 'application/pdf', fileName: upload.body.data.fileName });
  });
});
