import { startTestServer, type TestServer } from '../helpers/server';
import { bearer, createUser, type TestUser } from '../helpers/users';
import type { UploadsModule } from '../../src/modules/uploads';
import { binary, fixture, listFiles, makeImage, tempUploadDir, uploadFile } from './media';

describe('who may reach an upload', () => {
  let app: TestServer;
  let dir: string;
  let sender: TestUser;
  let receiver: TestUser;
  let stranger: TestUser;

  beforeAll(async () => {
    dir = await tempUploadDir();
    app = await startTestServer({ env: { UPLOAD_DIR: dir, RATE_LIMIT_MAX: '100000' } });
    sender = await createUser(app);
    receiver = await createUser(app);
    stranger = await createUser(app);
  });
  afterAll(() => app.close());

  const getAs = (user: TestUser, path: string) => app.api.get(path).set('Authorization', bearer(user)).buffer(true).parse(binary);
  const json = (buffer: unknown) => JSON.parse((buffer as Buffer).toString()) as { error: { code: string } };

  async function conversationBetween(a: TestUser, b: TestUser): Promise<string> {
    const res = await app.api.post('/api/chat/conversations').set('Authorization', bearer(a)).send({ type: 'direct', participantIds: [b.id] });
    expect([200, 201]).toContain(res.status);
    return res.body.data.id as string;
  }

  async function send(user: TestUser, conversationId: string, type: string, attachmentIds: string[]) {
    return app.api
      .post(`/api/chat/conversations/${conversationId}/messages`)
      .set('Authorization', bearer(user))
      .send({ clientMessageId: `m-${Math.random().toString(36).slice(2)}`, type, attachmentIds });
  }

  it('lets the other participant open a photo, a PDF and a voice note sent in their conversation; a stranger gets 404', async () => {
    const conversationId = await conversationBetween(sender, receiver);
    const photo = await uploadFile(app, sender.accessToken, 'image', await makeImage(1200, 900, 'jpeg'), 'stock.jpg');
    const pdf = await uploadFile(app, sender.accessToken, 'document', await fixture('invoice.pdf'), 'invoice.pdf');
    const voice = await uploadFile(app, sender.accessToken, 'voice', await fixture('voice.ogg'), 'note.ogg');
    expect([photo.status, pdf.status, voice.status]).toEqual([201, 201, 201]);

    const sentPhoto = await send(sender, conversationId, 'image', [photo.body.data.id]);
    const sentPdf = await send(sender, conversationId, 'document', [pdf.body.data.id]);
    const sentVoice = await send(sender, conversationId, 'voice', [voice.body.data.id]);
    expect([sentPhoto.status, sentPdf.status, sentVoice.status]).toEqual([201, 201, 201]);

    // The message carries what the app needs to show the file without another call.
    expect(sentPhoto.body.data.attachments).toEqual([
      expect.objectContaining({
        uploadId: photo.body.data.id,
        kind: 'image',
        mimeType: 'image/jpeg',
        size: photo.body.data.size,
        width: 1200,
        height: 900,
        thumbnailUrl: `/api/upload/${photo.body.data.id}/thumbnail`,
        url: `/api/upload/${photo.body.data.id}/content`,
      }),
    ]);
    expect(sentVoice.body.data.attachments[0]).toMatchObject({ kind: 'voice', durationMs: voice.body.data.durationMs });
    expect(sentPdf.body.data.attachments[0]).toMatchObject({ kind: 'document', mimeType: 'application/pdf' });

    const listed = await app.api.get(`/api/chat/conversations/${conversationId}/messages`).set('Authorization', bearer(receiver));
    expect(listed.status).toBe(200);
    const shown = (listed.body.data as { attachments: { kind: string; thumbnailUrl?: string; durationMs?: number }[] }[]).flatMap(
      (message) => message.attachments,
    );
    expect(shown.find((a) => a.kind === 'image')?.thumbnailUrl).toBe(`/api/upload/${photo.body.data.id}/thumbnail`);
    expect(shown.find((a) => a.kind === 'voice')?.durationMs).toBe(voice.body.data.durationMs);

    for (const upload of [photo, pdf, voice]) {
      const { id, url, size } = upload.body.data as { id: string; url: string; size: number };
      const meta = await app.api.get(`/api/upload/${id}`).set('Authorization', bearer(receiver));
      expect(meta.status).toBe(200);
      expect(meta.body.data).toMatchObject({ id, attached: true });
      const content = await getAs(receiver, url);
      expect(content.status).toBe(200);
      expect((content.body as Buffer).length).toBe(size);

      for (const path of [`/api/upload/${id}`, url, `/api/upload/${id}/thumbnail`]) {
        const denied = await getAs(stranger, path);
        expect(denied.status).toBe(404);
        expect(json(denied.body).error.code).toBe('NOT_FOUND');
      }
    }
    const thumb = await getAs(receiver, photo.body.data.thumbnailUrl);
    expect(thumb.status).toBe(200);
    expect(thumb.headers['content-type']).toBe('image/webp');
  });

  it('keeps an unsent file private to its owner (another user gets 404 everywhere)', async () => {
    const own = await uploadFile(app, sender.accessToken, 'image', await makeImage(100, 100, 'png'), 'draft.png');
    const { id } = own.body.data as { id: string };
    expect((await getAs(sender, `/api/upload/${id}`)).status).toBe(200);
    for (const path of [`/api/upload/${id}`, `/api/upload/${id}/content`, `/api/upload/${id}/thumbnail`]) {
      expect((await getAs(receiver, path)).status).toBe(404);
    }
    const deleted = await app.api.delete(`/api/upload/${id}`).set('Authorization', bearer(receiver));
    expect(deleted.status).toBe(404);
    expect(deleted.body.error.code).toBe('NOT_FOUND');
    expect((await getAs(sender, `/api/upload/${id}/content`)).status).toBe(200);
  });

  it('answers 404 for ids that are malformed or do not exist', async () => {
    for (const path of ['/api/upload/not-an-id', '/api/upload/000000000000000000000000/content', '/api/upload/%24where/thumbnail']) {
      const res = await getAs(sender, path);
      expect(res.status).toBe(404);
      expect(json(res.body).error.code).toBe('NOT_FOUND');
    }
  });

  it('refuses to attach someone else’s upload to a message (404) and records nothing', async () => {
    const conversationId = await conversationBetween(stranger, receiver);
    const theirs = await uploadFile(app, sender.accessToken, 'document', await fixture('invoice.pdf'), 'private.pdf');
    const res = await send(stranger, conversationId, 'document', [theirs.body.data.id]);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
    expect((await getAs(receiver, `/api/upload/${theirs.body.data.id}`)).status).toBe(404);
    expect((await app.api.get(`/api/upload/${theirs.body.data.id}`).set('Authorization', bearer(sender))).body.data.attached).toBe(false);

    const uploads = app.server.modules.find((module) => module.name === 'uploads') as UploadsModule;
    await expect(uploads.attach([theirs.body.data.id], stranger.id, conversationId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(uploads.attach(['nonsense'], sender.id, conversationId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('lets the owner delete an unsent file (objects removed) but not one sent in a conversation (409)', async () => {
    const draft = await uploadFile(app, sender.accessToken, 'image', await makeImage(300, 200, 'webp'), 'draft.webp');
    const before = await listFiles(`${dir}/objects`);
    const deleted = await app.api.delete(`/api/upload/${draft.body.data.id}`).set('Authorization', bearer(sender));
    expect(deleted.status).toBe(204);
    expect((await listFiles(`${dir}/objects`)).length).toBe(before.length - 2);
    expect((await getAs(sender, `/api/upload/${draft.body.data.id}`)).status).toBe(404);

    const conversationId = await conversationBetween(sender, receiver);
    const sent = await uploadFile(app, sender.accessToken, 'voice', await fixture('voice.mp3'), 'sent.mp3');
    expect((await send(sender, conversationId, 'voice', [sent.body.data.id])).status).toBe(201);
    const refused = await app.api.delete(`/api/upload/${sent.body.data.id}`).set('Authorization', bearer(sender));
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('CONFLICT');
    expect((await getAs(receiver, sent.body.data.url)).status).toBe(200);
  });
});
