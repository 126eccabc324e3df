import { createHash } from 'node:crypto';
import { startTestServer, type TestServer } from '../helpers/server';
import { createUser, type TestUser } from '../helpers/users';
import { binary, fixture, listFiles, makeImage, tempUploadDir, uploadFile } from './media';

describe('document and voice uploads', () => {
  let app: TestServer;
  let user: TestUser;
  let dir: string;

  beforeAll(async () => {
    dir = await tempUploadDir();
    app = await startTestServer({
      env: { UPLOAD_DIR: dir, UPLOAD_VOICE_MAX_SECONDS: '5', UPLOAD_DOCUMENT_MAX_BYTES: String(64 * 1024) },
    });
    user = await createUser(app);
  });
  afterAll(() => app.close());

  const get = (path: string) => app.api.get(path).set('Authorization', `Bearer ${user.accessToken}`).buffer(true).parse(binary);

  it.each([
    ['invoice.pdf', 'application/pdf', 'invoice.pdf'],
    ['invoice.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'invoice.docx'],
    ['catalogue.xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'catalogue.xlsx'],
  ])('accepts %s by content and serves it as a download', async (name, mimeType, fileName) => {
    const bytes = await fixture(name);
    const res = await uploadFile(app, user.accessToken, 'document', bytes, name);
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({ kind: 'document', mimeType, size: bytes.length, fileName });
    expect(res.body.data.thumbnailUrl).toBeUndefined();

    const content = await get(res.body.data.url);
    expect(content.status).toBe(200);
    expect(content.headers['content-type']).toBe(mimeType);
    expect(content.headers['content-disposition']).toBe(`attachment; filename="${fileName}"; filename*=UTF-8''${fileName}`);
    expect(Buffer.compare(content.body as Buffer, bytes)).toBe(0);
  });

  it('accepts a CSV (UTF-8, consistent delimiter) and records its sha256', async () => {
    const csv = Buffer.from('sku;name;price\n"A-1";"Rice, 5 kg";1250\nB-2;Dal;980\n');
    const res = await uploadFile(app, user.accessToken, 'document', csv, 'prices.csv', 'text/plain');
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({
      mimeType: 'text/csv; charset=utf-8',
      sha256: createHash('sha256').update(csv).digest('hex'),
    });
  });

  it.each([
    ['free text', Buffer.from('Hello, please find the invoice attached\nThanks\n')],
    ['binary with NUL bytes', Buffer.from('a,b\n1,\u0000\n')],
    ['text that is not UTF-8', Buffer.from([0x61, 0x2c, 0x62, 0x0a, 0xff, 0xfe, 0x2c, 0x31, 0x0a])],
  ])('refuses %s as a document (415)', async (_label, bytes) => {
    const res = await uploadFile(app, user.accessToken, 'document', bytes, 'data.csv', 'text/csv');
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('refuses a PNG renamed to .pdf and sent as application/pdf (415)', async () => {
    const png = await makeImage(32, 32, 'png');
    const res = await uploadFile(app, user.accessToken, 'document', png, 'invoice.pdf', 'application/pdf');
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('refuses a document over the configured size (413)', async () => {
    const pdf = Buffer.concat([await fixture('invoice.pdf'), Buffer.alloc(64 * 1024)]);
    const res = await uploadFile(app, user.accessToken, 'document', pdf, 'big.pdf');
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it.each([
    ['voice.ogg', 'audio/ogg'],
    ['voice.m4a', 'audio/mp4'],
    ['voice-isom.m4a', 'audio/mp4'],
    ['voice.aac', 'audio/aac'],
    ['voice.mp3', 'audio/mpeg'],
    ['voice.webm', 'audio/webm'],
  ])('accepts the voice note %s and records its duration', async (name, mimeType) => {
    const res = await uploadFile(app, user.accessToken, 'voice', await fixture(name), name);
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({ kind: 'voice', mimeType });
    expect(res.body.data.durationMs).toBeGreaterThanOrEqual(1900);
    expect(res.body.data.durationMs).toBeLessThanOrEqual(2200);
  });

  it('refuses a voice note longer than the configured limit (413)', async () => {
    const res = await uploadFile(app, user.accessToken, 'voice', await fixture('voice-8s.ogg'), 'long.ogg');
    expect(res.status).toBe(413);
    expect(res.body.error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', message: expect.stringMatching(/longer than 5 seconds/) });
  });

  it('refuses an image sent as a voice note (415)', async () => {
    const res = await uploadFile(app, user.accessToken, 'voice', await makeImage(16, 16, 'png'), 'note.ogg', 'audio/ogg');
    expect(res.status).toBe(415);
  });

  it('refuses a WebM with a video track as a voice note (415)', async () => {
    const res = await uploadFile(app, user.accessToken, 'voice', await fixture('video.webm'), 'note.webm', 'audio/webm');
    expect(res.status).toBe(415);
    expect(res.body.error).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', message: expect.stringMatching(/audio only/) });
  });

  it('serves byte ranges of a voice note (206) and refuses an unsatisfiable range (416)', async () => {
    const bytes = await fixture('voice.ogg');
    const created = await uploadFile(app, user.accessToken, 'voice', bytes, 'ranged.ogg');
    const url = created.body.data.url as string;

    const part = await app.api.get(url).set('Authorization', `Bearer ${user.accessToken}`).set('Range', 'bytes=100-199').buffer(true).parse(binary);
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 100-199/${bytes.length}`);
    expect(part.headers['content-length']).toBe('100');
    expect(part.headers['accept-ranges']).toBe('bytes');
    expect(Buffer.compare(part.body as Buffer, bytes.subarray(100, 200))).toBe(0);

    const tail = await app.api.get(url).set('Authorization', `Bearer ${user.accessToken}`).set('Range', 'bytes=-10').buffer(true).parse(binary);
    expect(tail.status).toBe(206);
    expect(Buffer.compare(tail.body as Buffer, bytes.subarray(bytes.length - 10))).toBe(0);

    const outside = await app.api.get(url).set('Authorization', `Bearer ${user.accessToken}`).set('Range', `bytes=${bytes.length + 10}-`);
    expect(outside.status).toBe(416);
    expect(outside.headers['content-range']).toBe(`bytes */${bytes.length}`);
    expect(outside.body.error.code).toBe('RANGE_NOT_SATISFIABLE');
  });

  it('answers a repeated download with 304 when the client already has it (ETag), saving mobile data', async () => {
    const created = await uploadFile(app, user.accessToken, 'document', await fixture('catalogue.xlsx'), 'cached.xlsx');
    const first = await get(created.body.data.url);
    expect(first.headers.etag).toBe(`"${created.body.data.sha256}"`);
    const again = await app.api
      .get(created.body.data.url)
      .set('Authorization', `Bearer ${user.accessToken}`)
      .set('If-None-Match', first.headers.etag as string);
    expect(again.status).toBe(304);
    const changed = await app.api.get(created.body.data.url).set('Authorization', `Bearer ${user.accessToken}`).set('If-None-Match', '"other"');
    expect(changed.status).toBe(200);
  });

  it('keeps the client file name only as cleaned metadata, with the real extension', async () => {
    const res = await uploadFile(app, user.accessToken, 'document', await fixture('invoice.pdf'), '../../etc/"évil"\r\n<name>.pdf.html');
    expect(res.status).toBe(201);
    expect(res.body.data.fileName).toBe('évilname.pdf.pdf');
    const content = await get(res.body.data.url);
    expect(content.headers['content-disposition']).toBe(
      `attachment; filename="_vilname.pdf.pdf"; filename*=UTF-8''%C3%A9vilname.pdf.pdf`,
    );
  });

  it('leaves no staged file behind after all of the above', async () => {
    expect(await listFiles(`${dir}/tmp`)).toEqual([]);
  });
});
