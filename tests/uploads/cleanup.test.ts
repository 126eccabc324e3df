import http from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { startTestServer, type TestServer } from '../helpers/server';
import { createUser, type TestUser } from '../helpers/users';
import { fixture, listFiles, makeImage, makePngBomb, tempUploadDir, uploadFile } from './media';

/** Polls until the condition holds (bounded); a leak therefore fails the test instead of racing it. */
async function eventually(check: () => Promise<boolean>, attempts = 100): Promise<boolean> {
  for (let i = 0; i < attempts; i += 1) {
    if (await check()) return true;
    await delay(50);
  }
  return check();
}

describe('nothing is stored for a rejected or aborted upload', () => {
  let app: TestServer;
  let user: TestUser;
  let dir: string;

  beforeAll(async () => {
    dir = await tempUploadDir();
    app = await startTestServer({
      env: { UPLOAD_DIR: dir, UPLOAD_IMAGE_MAX_BYTES: String(256 * 1024), UPLOAD_VOICE_MAX_SECONDS: '5' },
    });
    user = await createUser(app);
  });
  afterAll(() => app.close());

  const uploadCount = () => app.ctx.mongo.collection('uploads').countDocuments({});

  it('keeps no partial file, object or record after each kind of refusal', async () => {
    const truncated = (await makeImage(600, 400, 'jpeg')).subarray(0, 2000);
    const refusals: [string, () => Promise<{ status: number }>, number][] = [
      ['wrong type', async () => uploadFile(app, user.accessToken, 'image', Buffer.from('<script>alert(1)</script>'), 'x.jpg'), 415],
      ['too large', async () => uploadFile(app, user.accessToken, 'image', Buffer.alloc(300 * 1024, 1), 'x.png'), 413],
      ['corrupt', async () => uploadFile(app, user.accessToken, 'image', truncated, 'x.jpg'), 400],
      ['bomb', async () => uploadFile(app, user.accessToken, 'image', makePngBomb(), 'x.png'), 413],
      ['too long', async () => uploadFile(app, user.accessToken, 'voice', await fixture('voice-8s.ogg'), 'x.ogg'), 413],
    ];
    for (const [, attempt, status] of refusals) {
      expect((await attempt()).status).toBe(status);
    }
    expect(await listFiles(dir)).toEqual([]);
    expect(await uploadCount()).toBe(0);
  });

  it('removes the partial file when the client aborts mid-upload, and keeps serving', async () => {
    const boundary = '----abortboundary';
    const port = new URL(app.url).port;
    const req = http.request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/api/upload/image',
      headers: {
        Authorization: `Bearer ${user.accessToken}`,
        'Content-Type': `multipart/form-data; boundary=${boundary}`,
        'Content-Length': String(200 * 1024),
      },
    });
    req.on('error', () => undefined);
    req.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\nContent-Type: image/png\r\n\r\n`);
    req.write(Buffer.alloc(64 * 1024, 7));
    // The staged file exists while the body is streaming in...
    expect(await eventually(async () => (await listFiles(`${dir}/tmp`)).length === 1)).toBe(true);
    req.destroy();

    // ...and is gone once the connection drops.
    expect(await eventually(async () => (await listFiles(dir)).length === 0)).toBe(true);
    expect(await uploadCount()).toBe(0);

    const after = await uploadFile(app, user.accessToken, 'image', await makeImage(50, 50, 'png'), 'ok.png');
    expect(after.status).toBe(201);
  });
});
