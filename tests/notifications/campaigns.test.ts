import { Types } from 'mongoose';
import { startTestServer, type TestServer } from '../helpers/server';
import { bearer, createUser, type TestUser } from '../helpers/users';
import { notificationsOf } from './helpers';
import type { NotificationsModule } from '../../src/modules/notifications';

jest.setTimeout(600_000);

const RECIPIENTS = 5_000;

/** Vendors inserted straight into the users collection: 5,000 sign-ups through the API would be the test. */
function vendorDocs(count: number, now: Date) {
  return Array.from({ length: count }, (_, i) => ({
    _id: new Types.ObjectId(),
    email: `campaign-${i}-${now.getTime()}@example.test`,
    name: `Vendor ${i}`,
    role: 'vendor',
    status: 'active',
    emailVerified: true,
    passwordHash: 'not-a-hash',
    business: { categories: [] },
    preferences: { language: 'en', timezone: 'UTC', notifications: i === 0 ? { marketing: [] } : {}, quietHours: { enabled: false, start: '22:00', end: '07:00' } },
    followersCount: 0,
    followingCount: 0,
    createdAt: now,
    updatedAt: now,
  }));
}

describe('campaigns (admin service contract)', () => {
  let app: TestServer;
  let module: NotificationsModule;
  let buyer: TestUser;
  let vendor: TestUser;

  beforeAll(async () => {
    app = await startTestServer({ env: { RATE_LIMIT_MAX: '100000', NOTIFICATIONS_CAMPAIGN_BATCH_SIZE: '1000' } });
    module = notificationsOf(app);
    buyer = await createUser(app);
    vendor = await createUser(app, { role: 'vendor' });
    const docs = vendorDocs(RECIPIENTS - 1, new Date());
    for (let i = 0; i < docs.length; i += 200) await app.ctx.mongo.collection('users').insertMany(docs.slice(i, i + 200));
  });
  afterAll(async () => {
    await app.close();
  });

  it('sends a marketing notification to a 5,000-vendor segment in batches through the job queue, while requests are answered', async () => {
    const campaign = await module.admin.createCampaign('admin-1', { title: 'Spice fair', body: 'Meet buyers at the spice fair.', data: { link: '/events/spice-fair' }, segment: { roles: ['vendor'] } });
    expect(campaign).toMatchObject({ status: 'scheduled', segment: { roles: ['vendor'], countries: [], activeWithinDays: null } });

    // Requests keep being answered while the batches run in the background.
    let answered = 0;
    const status = async () => (await app.ctx.mongo.collection('notification_campaigns').findOne({ _id: new Types.ObjectId(campaign.id) }))?.status;
    while ((await status()) !== 'sent') {
      const res = await app.api.get('/api/notifications/unread-count').set('Authorization', bearer(buyer));
      expect(res.status).toBe(200);
      answered += 1;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(answered).toBeGreaterThan(0);
    const stats = await module.admin.campaign(campaign.id);
    expect(stats.stats).toMatchObject({ targeted: RECIPIENTS, read: 0 });
    expect(await app.ctx.mongo.collection('notification_campaign_batches').countDocuments({ campaignId: campaign.id })).toBe(6);
    expect(await app.ctx.mongo.collection('notifications').countDocuments({ campaignId: campaign.id })).toBe(RECIPIENTS);
    // The buyer is not in the segment; the vendor who opted out of marketing still has the in-app entry, but no email.
    expect(await app.ctx.mongo.collection('notifications').countDocuments({ campaignId: campaign.id, userId: buyer.id })).toBe(0);
    const optedOut = await app.ctx.mongo.collection('notification_deliveries').countDocuments({ campaignId: campaign.id, channel: 'email', reason: 'preference' });
    expect(optedOut).toBe(1);
    // No SMTP here: the other emails are suppressed as not configured, counted as such.
    expect(stats.stats.suppressed).toBe(RECIPIENTS * 2);

    const mine = await app.api.get('/api/notifications?category=marketing').set('Authorization', bearer(vendor)).expect(200);
    expect(mine.body.data).toHaveLength(1);
    await app.api.post(`/api/notifications/${mine.body.data[0].id}/read`).set('Authorization', bearer(vendor)).expect(200);
    expect((await module.admin.campaign(campaign.id)).stats.read).toBe(1);
  });

  /** A due campaign stored as a process that died before enqueuing it would leave it. */
  async function lostCampaign(title: string): Promise<Types.ObjectId> {
    const id = new Types.ObjectId();
    const now = new Date();
    await app.ctx.mongo.collection('notification_campaigns').insertOne({
      _id: id,
      title,
      body: 'b',
      data: {},
      segment: { roles: ['user'], countries: [], activeWithinDays: null },
      scheduledAt: new Date(now.getTime() - 60_000),
      status: 'scheduled',
      createdBy: 'admin-1',
      createdAt: now,
      finishedAt: null,
    });
    return id;
  }
  async function reconciledUntilSent(id: Types.ObjectId): Promise<void> {
    expect(await module.releaseDue()).toBeGreaterThan(0);
    const deadline = Date.now() + 60_000;
    while ((await app.ctx.mongo.collection('notification_campaigns').findOne({ _id: id }))?.status !== 'sent') {
      if (Date.now() > deadline) throw new Error('the reconciled campaign was never sent');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  it('a campaign whose job was lost (stored, never enqueued) is found and sent by reconciliation', async () => {
    const id = await lostCampaign('Buyers week');
    await reconciledUntilSent(id);
    const stats = await module.admin.campaign(String(id));
    expect(stats.stats.targeted).toBe(1);
    expect(await app.ctx.mongo.collection('notifications').countDocuments({ campaignId: String(id), userId: buyer.id })).toBe(1);
  });

  it('an unknown campaign is 404', async () => {
    await expect(module.admin.campaign(String(new Types.ObjectId()))).rejects.toMatchObject({ status: 404 });
    await expect(module.admin.campaign('nope')).rejects.toMatchObject({ status: 404 });
  });
});
