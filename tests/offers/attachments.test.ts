import { startTestServer, type TestServer } from '../helpers/server';
import { bearer } from '../helpers/users';
import { makeImage, tempUploadDir, uploadFile } from '../uploads/media';
import { OFFERS_TEST_ENV, act, cuminOffer, parties, type Parties } from './offers-helpers';

describe('offer attachments (offers + uploads)', () => {
  let app: TestServer;
  let p: Parties;
  beforeAll(async () => {
    app = await startTestServer({ env: { ...OFFERS_TEST_ENV, UPLOAD_DIR: await tempUploadDir() } });
    p = await parties(app);
  });
  afterAll(() => app.close());

  it("carries the proposer's own uploads, which the other party may then fetch; someone else's upload is refused", async () => {
    const upload = await uploadFile(app, p.vendor.accessToken, 'image', await makeImage(64, 48, 'png'), 'spec.png');
    expect(upload.status).toBe(201);
    const uploadId = upload.body.data.id as string;
    const created = await app.api.post('/api/offers').set('Authorization', bearer(p.vendor)).send(cuminOffer(p, { payment: { kind: 'prepaid' }, attachmentIds: [uploadId] })).expect(201);
    expect(created.body.data.attachments).toEqual([expect.objectContaining({ uploadId, kind: 'image', width: 64, height: 48 })]);
    const url = created.body.data.attachments[0].url as string;
    expect((await app.api.get(url).set('Authorization', bearer(p.buyer))).status).toBe(200);
    expect((await app.api.get(url).set('Authorization', bearer(p.stranger))).status).toBe(404);

    // The buyer may not attach the vendor's upload to a counter: NOT_FOUND, and the offer is unchanged.
    const stolen = await act(app, p.buyer, created.body.data.id, 'counter', { version: 1, attachmentIds: [uploadId], notes: 'see attached' });
    expect(stolen.status).toBe(404);
    const read = await app.api.get(`/api/offers/${created.body.data.id}`).set('Authorization', bearer(p.buyer)).expect(200);
    expect(read.body.data.version).toBe(1);
    // A counter without attachmentIds keeps the current ones.
    const countered = await act(app, p.buyer, created.body.data.id, 'counter', { version: 1, notes: 'cheaper please' }).expect(200);
    expect(countered.body.data.attachments.map((a: { uploadId: string }) => a.uploadId)).toEqual([uploadId]);
  });
});
