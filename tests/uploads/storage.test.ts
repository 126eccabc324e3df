import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { loadConfig } from '../../src/config';
import { createStorage, ObjectNotFoundError, type ObjectStorage } from '../../src/platform/storage';
import { testEnv } from '../helpers/env';
import { startTestServer, type TestServer } from '../helpers/server';
import { createUser } from '../helpers/users';
import { binary, fixture, listFiles, makeImage, tempUploadDir, uploadFile } from './media';
import { startLocalS3, type LocalS3 } from './s3-server';

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

let s3: LocalS3;
beforeAll(async () => {
  s3 = await startLocalS3();
});
afterAll(() => s3.close());

const drivers: [string, () => Record<string, string>][] = [
  ['local disk', () => ({})],
  ['S3-compatible', () => s3.env],
];

describe.each(drivers)('the %s storage driver', (_name, driverEnv) => {
  let storage: ObjectStorage;
  let dir: string;

  beforeAll(async () => {
    dir = await tempUploadDir();
    storage = createStorage(loadConfig(testEnv({ UPLOAD_DIR: dir, ...driverEnv() })).uploads);
    await storage.init();
  });
  afterAll(() => storage.close());

  const stage = async (content: Buffer) => {
    const file = path.join(await mkdtemp(path.join(tmpdir(), 'stage-')), 'f');
    await writeFile(file, content);
    return file;
  };

  it('stores a file and reads it back whole and by range', async () => {
    const content = Buffer.from('0123456789abcdefghij');
    await storage.putFile('document/0123456789abcdef0123456789abcdef', await stage(content), 'text/plain');
    expect(await storage.exists('document/0123456789abcdef0123456789abcdef')).toBe(true);
    expect((await readAll(await storage.read('document/0123456789abcdef0123456789abcdef'))).toString()).toBe(content.toString());
    const part = await readAll(await storage.read('document/0123456789abcdef0123456789abcdef', { start: 5, end: 9 }));
    expect(part.toString()).toBe('56789');
  });

  it('reports a missing object as ObjectNotFoundError and removes idempotently', async () => {
    const key = 'voice/ffffffffffffffffffffffffffffffff';
    await storage.putFile(key, await stage(Buffer.from('x')), 'audio/ogg');
    await storage.remove(key);
    await storage.remove(key);
    expect(await storage.exists(key)).toBe(false);
    await expect(storage.read(key)).rejects.toBeInstanceOf(ObjectNotFoundError);
  });

  it('refuses keys it did not generate (no path traversal)', async () => {
    await expect(storage.read('../../etc/passwd')).rejects.toThrow('Invalid storage key');
    await expect(storage.putFile('image/../../x', await stage(Buffer.from('x')), 'text/plain')).rejects.toThrow('Invalid storage key');
  });
});

describe('uploads through the API with the S3 driver', () => {
  let app: TestServer;
  let dir: string;

  beforeAll(async () => {
    dir = await tempUploadDir();
    app = await startTestServer({ env: { UPLOAD_DIR: dir, ...s3.env } });
  });
  afterAll(() => app.close());

  it('stores, serves and deletes an image and its thumbnail in the bucket, nothing on the local disk', async () => {
    const user = await createUser(app);
    const created = await uploadFile(app, user.accessToken, 'image', await makeImage(400, 300, 'png'), 'shelf.png');
    expect(created.status).toBe(201);
    const { id, url, thumbnailUrl } = created.body.data as { id: string; url: string; thumbnailUrl: string };

    const content = await app.api.get(url).set('Authorization', `Bearer ${user.accessToken}`).buffer(true).parse(binary);
    expect(content.status).toBe(200);
    expect(content.headers['content-type']).toBe('image/png');
    expect((content.body as Buffer).length).toBe(created.body.data.size);
    const thumb = await app.api.get(thumbnailUrl).set('Authorization', `Bearer ${user.accessToken}`);
    expect(thumb.status).toBe(200);

    const voice = await uploadFile(app, user.accessToken, 'voice', await fixture('voice.mp3'), 'note.mp3');
    const ranged = await app.api
      .get(voice.body.data.url)
      .set('Authorization', `Bearer ${user.accessToken}`)
      .set('Range', 'bytes=0-9')
      .buffer(true)
      .parse(binary);
    expect(ranged.status).toBe(206);
    expect((ranged.body as Buffer).length).toBe(10);

    expect(await listFiles(dir)).toEqual([]);
    const record = await app.ctx.mongo.collection('uploads').findOne({});
    expect(record).not.toBeNull();
    const storage = createStorage(app.ctx.config.uploads);
    const keys = await app.ctx.mongo
      .collection('uploads')
      .find({})
      .toArray()
      .then((docs) => docs.flatMap((doc) => [doc.storageKey as string, doc.thumbnailKey as string | undefined]).filter(Boolean));
    for (const key of keys) expect(await storage.exists(key as string)).toBe(true);

    const deleted = await app.api.delete(`/api/upload/${id}`).set('Authorization', `Bearer ${user.accessToken}`);
    expect(deleted.status).toBe(204);
    const image = keys.filter((key) => (key as string).startsWith('image/'));
    expect(image).toHaveLength(2);
    for (const key of image) expect(await storage.exists(key as string)).toBe(false);
    await storage.close();
  });
});

describe('when the object store is unreachable', () => {
  let app: TestServer;
  let dir: string;

  beforeAll(async () => {
    dir = await tempUploadDir();
    // A port nothing listens on: the s3rver of this file, stopped.
    const stopped = await startLocalS3();
    await stopped.close();
    app = await startTestServer({ env: { UPLOAD_DIR: dir, ...stopped.env } });
  });
  afterAll(() => app.close());

  it('answers 503 and keeps neither a staged file nor a record', async () => {
    const user = await createUser(app);
    const res = await uploadFile(app, user.accessToken, 'document', await fixture('invoice.pdf'), 'invoice.pdf');
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('SERVICE_UNAVAILABLE');
    expect(await listFiles(dir)).toEqual([]);
    expect(await app.ctx.mongo.collection('uploads').countDocuments({})).toBe(0);
  });
});
