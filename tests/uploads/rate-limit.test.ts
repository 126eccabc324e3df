import { startTestServer, type TestServer } from '../helpers/server';
import { createUser } from '../helpers/users';
import { listFiles, makeImage, tempUploadDir, uploadFile } from './media';

describe('upload budget per user', () => {
  let app: TestServer;
  let dir: string;

  beforeAll(async () => {
    dir = await tempUploadDir();
    app = await startTestServer({ env: { UPLOAD_DIR: dir, UPLOAD_RATE_LIMIT_MAX: '2' } });
  });
  afterAll(() => app.close());

  it('answers 429 with Retry-After once a user has used the budget, without reading the file; other users are unaffected', async () => {
    const [busy, other] = [await createUser(app), await createUser(app)];
    const image = await makeImage(64, 64, 'png');
    expect((await uploadFile(app, busy.accessToken, 'image', image, 'a.png')).status).toBe(201);
    expect((await uploadFile(app, busy.accessToken, 'image', image, 'b.png')).status).toBe(201);
    const objectsBefore = await listFiles(dir);

    const refused = await uploadFile(app, busy.accessToken, 'image', image, 'c.png');
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('RATE_LIMITED');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(await listFiles(dir)).toEqual(objectsBefore);

    expect((await uploadFile(app, other.accessToken, 'image', image, 'd.png')).status).toBe(201);
  });
});
