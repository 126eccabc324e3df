import { createHmac } from 'node:crypto';
import request from 'supertest';
import type { UploadsModule } from '../../src/modules/uploads';
import { testClock, type TestClock } from '../helpers/clock';
import { startTestServer, type TestServer } from '../helpers/server';
import { bearer, createUser, type TestUser } from '../helpers/users';
import { binary, fixture, tempUploadDir, uploadFile } from './media';

const SECRET = 'signed-links-test-secret-0123456789abcdef';
const PUBLIC_BASE = 'https://files.trade.example';

/** Signed, short-lived download links: followed without a session, refused when forged, moved, tampered or expired. */
describe('signed download links', () => {
  let app: TestServer;
  let clock: TestClock;
  let uploads: UploadsModule;
  let owner: TestUser;
  let pdf: { id: string; size: number; sha256: string };
  let other: { id: string };

  beforeAll(async () => {
    clock = testClock();
    app = await startTestServer({
      clock,
      env: { UPLOAD_DIR: await tempUploadDir(), RATE_LIMIT_MAX: '100000', UPLOAD_SIGNING_SECRET: SECRET, UPLOAD_SIGNED_URL_TTL_SECONDS: '300', UPLOAD_PUBLIC_BASE_URL: PUBLIC_BASE },
    });
    uploads = app.server.modules.find((m) => m.name === 'uploads') as UploadsModule;
    owner = await createUser(app);
    const first = await uploadFile(app, owner.accessToken, 'document', await fixture('invoice.pdf'), 'invoice.pdf');
    const second = await uploadFile(app, owner.accessToken, 'document', Buffer.from('sku,name\nA-1,Rice\n'), 'other.csv');
    expect([first.status, second.status]).toEqual([201, 201]);
    pdf = first.body.data;
    other = second.body.data;
  });
  afterAll(() => app.close());

  /** The link's path and query at the test server (the public base is what a proxy would answer). */
  const local = (url: string) => {
    expect(url.startsWith(`${PUBLIC_BASE}/api/upload/`)).toBe(true);
    const parsed = new URL(url);
    return `${parsed.pathname}${parsed.search}`;
  };
  const follow = (url: string) => request(app.url).get(local(url)).buffer(true).parse(binary);
  const refusedAs = (res: { status: number; body: unknown; headers: Record<string, string> }, status: number, code: string) => {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse((res.body as Buffer).toString())).toMatchObject({ error: { code, requestId: expect.any(String) } });
  };

  it('a valid link serves the file without a session, with the ETag, 304 and byte ranges of the normal download', async () => {
    const link = uploads.signedDownloadUrl(pdf.id);
    expect(Date.parse(link.expiresAt) - clock().getTime()).toBeLessThanOrEqual(300_000);
    const whole = await follow(link.url);
    expect(whole.status).toBe(200);
    expect(whole.body).toEqual(await fixture('invoice.pdf'));
    expect(whole.headers).toMatchObject({ 'content-type': 'application/pdf', etag: `"${pdf.sha256}"`, 'accept-ranges': 'bytes', 'x-content-type-options': 'nosniff' });
    expect(whole.headers['cache-control']).toMatch(/no-store/);
    expect(whole.headers['content-disposition']).toMatch(/^attachment/);

    const part = await request(app.url).get(local(link.url)).set('Range', 'bytes=0-3').buffer(true).parse(binary);
    expect(part.status).toBe(206);
    expect((part.body as Buffer).toString()).toBe('%PDF');
    expect(part.headers['content-range']).toBe(`bytes 0-3/${pdf.size}`);
    const cached = await request(app.url).get(local(link.url)).set('If-None-Match', `"${pdf.sha256}"`);
    expect(cached.status).toBe(304);
    const beyond = await request(app.url).get(local(link.url)).set('Range', `bytes=${pdf.size + 10}-`).buffer(true).parse(binary);
    refusedAs(beyond, 416, 'RANGE_NOT_SATISFIABLE');
  });

  it('an expired link is 403 (the app clock moved past it), and so is one whose expiry was pushed out', async () => {
    const link = uploads.signedDownloadUrl(pdf.id, { ttlSeconds: 60 });
    expect((await follow(link.url)).status).toBe(200);
    clock.advance(61_000);
    refusedAs(await follow(link.url), 403, 'FORBIDDEN');
    const extended = new URL(link.url);
    extended.searchParams.set('expires', String(Math.floor(clock().getTime() / 1000) + 120));
    refusedAs(await follow(extended.toString()), 403, 'FORBIDDEN');
  });

  it('a forged signature is 403: another secret, a changed character, garbage, or a link of the right shape from nowhere', async () => {
    const link = new URL(uploads.signedDownloadUrl(pdf.id).url);
    const expires = link.searchParams.get('expires') as string;
    const signature = link.searchParams.get('signature') as string;
    const forge = (sig: string) => `${PUBLIC_BASE}/api/upload/${pdf.id}/signed-content?expires=${expires}&signature=${encodeURIComponent(sig)}`;
    const otherSecret = createHmac('sha256', 'not-the-servers-secret-0123456789abcdef').update(`upload-content:v1\n${pdf.id}\n${expires}`).digest('base64url');
    const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
    const lastChar = `${signature.slice(0, -1)}${signature.endsWith('A') ? 'B' : 'A'}`;
    for (const sig of [otherSecret, flipped, lastChar, 'x', `${signature}=`, signature.toUpperCase()]) {
      refusedAs(await follow(forge(sig)), 403, 'FORBIDDEN');
    }
    // Without the parameters it is not a link at all: 400, still the envelope, never the file.
    refusedAs(await request(app.url).get(`/api/upload/${pdf.id}/signed-content`).buffer(true).parse(binary), 400, 'VALIDATION_FAILED');
  });

  it("one upload's link does not open another upload; a link to a deleted upload is 404", async () => {
    const link = new URL(uploads.signedDownloadUrl(pdf.id).url);
    const moved = `${PUBLIC_BASE}/api/upload/${other.id}/signed-content${link.search}`;
    refusedAs(await follow(moved), 403, 'FORBIDDEN');

    const temp = await uploadFile(app, owner.accessToken, 'document', Buffer.from('sku,name\nB-2,Dal\n'), 'temp.csv');
    const tempLink = uploads.signedDownloadUrl(temp.body.data.id);
    expect((await follow(tempLink.url)).status).toBe(200);
    await app.api.delete(`/api/upload/${temp.body.data.id}`).set('Authorization', bearer(owner)).expect(204);
    refusedAs(await follow(tempLink.url), 404, 'NOT_FOUND');
  });
});

describe('signed download links without UPLOAD_SIGNING_SECRET', () => {
  it('are not made (503) and none is accepted (403)', async () => {
    const app = await startTestServer({ env: { UPLOAD_DIR: await tempUploadDir() } });
    try {
      const uploads = app.server.modules.find((m) => m.name === 'uploads') as UploadsModule;
      expect(() => uploads.signedDownloadUrl('0123456789abcdef01234567')).toThrow(expect.objectContaining({ code: 'SERVICE_UNAVAILABLE' }));
      const res = await request(app.url).get(`/api/upload/0123456789abcdef01234567/signed-content?expires=9999999999&signature=${'A'.repeat(43)}`);
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('FORBIDDEN');
    } finally {
      await app.close();
    }
  }, 60_000);
});
