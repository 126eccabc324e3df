import { io as connect, type Socket } from 'socket.io-client';
import { startTestServer, type TestServer } from '../helpers/server';
import { bearer, createUser, type TestUser } from '../helpers/users';
import { notificationsOf, waitForDeliveries } from './helpers';
import type { NotificationsModule } from '../../src/modules/notifications';


// Starting a server with its own databases takes seconds on a loaded machine; no assertion depends on time.
jest.setTimeout(90_000);

describe('notifications inbox (REST and socket)', () => {
  let app: TestServer;
  let module: NotificationsModule;
  let alice: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    // No SMTP, Twilio or FCM: only in-app is configured, the others are suppressed as not configured.
    app = await startTestServer({ env: { RATE_LIMIT_MAX: '100000' } });
    module = notificationsOf(app);
    [alice, bob] = await Promise.all([createUser(app), createUser(app)]);
  });
  afterAll(async () => {
    await app.close();
  });

  const note = (title: string, extra: Record<string, unknown> = {}) =>
    module.notify(alice.id, { category: 'offers', title, body: `${title} body`, data: { link: '/offers/1' }, ...extra });

  it('stores a notification at once, with unconfigured channels suppressed, and lists it newest first', async () => {
    const first = await note('First');
    const second = await note('Second', { actions: [{ id: 'open', label: 'View', kind: 'open' }] });
    expect(first.notification).not.toBeNull();
    const res = await app.api.get('/api/notifications').set('Authorization', bearer(alice)).expect(200);
    const ids = res.body.data.map((n: { id: string }) => n.id);
    expect(ids.indexOf(second.notification!.id)).toBeLessThan(ids.indexOf(first.notification!.id));
    const view = res.body.data.find((n: { id: string }) => n.id === second.notification!.id);
    expect(view).toMatchObject({ category: 'offers', priority: 'normal', title: 'Second', readAt: null, actions: [{ id: 'open', label: 'View', kind: 'open' }] });
    expect(view.channels).toEqual(
      expect.arrayContaining([
        { channel: 'inApp', status: 'delivered', reason: null, notBefore: null },
        { channel: 'email', status: 'suppressed', reason: 'channel not configured', notBefore: null },
        { channel: 'push', status: 'suppressed', reason: 'channel not configured', notBefore: null },
      ]),
    );
    const deliveries = await waitForDeliveries(module, second.notification!.id, (d) => d.inApp?.status === 'delivered');
    expect(deliveries.inApp!.status).toBe('delivered');
  });

  it('pages with a cursor and filters by read state and category', async () => {
    for (let i = 0; i < 3; i += 1) await note(`Page ${i}`);
    // Orders: no event of this test makes one (signing in already made system notices).
    await module.notify(alice.id, { category: 'orders', title: 'Order', body: 'b' });
    const page1 = await app.api.get('/api/notifications?limit=2').set('Authorization', bearer(alice)).expect(200);
    expect(page1.body.data).toHaveLength(2);
    expect(page1.body.page).toMatchObject({ limit: 2, nextCursor: expect.any(String) });
    const page2 = await app.api.get(`/api/notifications?limit=2&cursor=${page1.body.page.nextCursor}`).set('Authorization', bearer(alice)).expect(200);
    const seen = new Set(page1.body.data.map((n: { id: string }) => n.id));
    for (const n of page2.body.data) expect(seen.has(n.id)).toBe(false);
    const orders = await app.api.get('/api/notifications?category=orders').set('Authorization', bearer(alice)).expect(200);
    expect(orders.body.data.map((n: { title: string }) => n.title)).toEqual(['Order']);
    const read = await app.api.get('/api/notifications?read=true').set('Authorization', bearer(alice)).expect(200);
    expect(read.body.data).toEqual([]);
  });

  it('counts unread, marks one read and seen, and reads all; the socket hears the count', async () => {
    const socket: Socket = connect(app.url, { auth: { token: alice.accessToken }, transports: ['websocket'], reconnection: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    try {
      const heard = new Promise<{ title: string }>((resolve) => socket.once('system:notification', resolve));
      const counted = new Promise<{ count: number }>((resolve) => socket.once('notification:unread_count', resolve));
      const fresh = await note('Live');
      expect((await heard).title).toBe('Live');
      const before = await app.api.get('/api/notifications/unread-count').set('Authorization', bearer(alice)).expect(200);
      expect((await counted).count).toBeGreaterThan(0);
      expect(before.body.data.count).toBeGreaterThan(1);

      const seen = await app.api.post(`/api/notifications/${fresh.notification!.id}/seen`).set('Authorization', bearer(alice)).expect(200);
      expect(seen.body.data).toMatchObject({ seenAt: expect.any(String), readAt: null });
      const afterRead = new Promise<{ count: number }>((resolve) => socket.once('notification:unread_count', resolve));
      const read = await app.api.post(`/api/notifications/${fresh.notification!.id}/read`).set('Authorization', bearer(alice)).expect(200);
      expect(read.body.data.readAt).toEqual(expect.any(String));
      expect((await afterRead).count).toBe(before.body.data.count - 1);

      const all = await app.api.post('/api/notifications/read-all').set('Authorization', bearer(alice)).send({}).expect(200);
      expect(all.body.data).toMatchObject({ unreadCount: 0 });
      expect(all.body.data.updated).toBe(before.body.data.count - 1);
    } finally {
      socket.close();
    }
  });

  it("answers 404 for another user's notification on every route, and changes nothing", async () => {
    const mine = await note('Private');
    const id = mine.notification!.id;
    await app.api.get(`/api/notifications/${id}`).set('Authorization', bearer(bob)).expect(404);
    await app.api.post(`/api/notifications/${id}/read`).set('Authorization', bearer(bob)).expect(404);
    await app.api.post(`/api/notifications/${id}/seen`).set('Authorization', bearer(bob)).expect(404);
    await app.api.post(`/api/notifications/${id}/actions/open`).set('Authorization', bearer(bob)).expect(404);
    await app.api.delete(`/api/notifications/${id}`).set('Authorization', bearer(bob)).expect(404);
    const list = await app.api.get('/api/notifications').set('Authorization', bearer(bob)).expect(200);
    expect(list.body.data.map((n: { id: string }) => n.id)).not.toContain(id);
    const still = await app.api.get(`/api/notifications/${id}`).set('Authorization', bearer(alice)).expect(200);
    expect(still.body.data).toMatchObject({ id, readAt: null });
    expect(still.body.data.deliveries.map((d: { channel: string }) => d.channel).sort()).toEqual(['email', 'inApp', 'push', 'sms']);
  });

  it('bulk read and delete touch only my ids; the rest are ignored and counted', async () => {
    const a1 = (await note('Bulk 1')).notification!.id;
    const a2 = (await note('Bulk 2')).notification!.id;
    const theirs = (await module.notify(bob.id, { category: 'offers', title: 'Bob', body: 'b' })).notification!.id;
    const res = await app.api
      .post('/api/notifications/bulk')
      .set('Authorization', bearer(alice))
      .send({ action: 'read', ids: [a1, a2, theirs, 'not-an-id'] })
      .expect(200);
    expect(res.body.data).toMatchObject({ updated: 2, ignored: 2 });
    const bobs = await app.api.get(`/api/notifications/${theirs}`).set('Authorization', bearer(bob)).expect(200);
    expect(bobs.body.data.readAt).toBeNull();

    const del = await app.api.post('/api/notifications/bulk').set('Authorization', bearer(alice)).send({ action: 'delete', ids: [a1, theirs] }).expect(200);
    expect(del.body.data).toMatchObject({ updated: 1, ignored: 1 });
    await app.api.get(`/api/notifications/${a1}`).set('Authorization', bearer(alice)).expect(404);
    await app.api.get(`/api/notifications/${theirs}`).set('Authorization', bearer(bob)).expect(200);
  });

  it('soft-deletes one notification: gone from the list and 404 after', async () => {
    const id = (await note('Delete me')).notification!.id;
    await app.api.delete(`/api/notifications/${id}`).set('Authorization', bearer(alice)).expect(204);
    await app.api.get(`/api/notifications/${id}`).set('Authorization', bearer(alice)).expect(404);
    const list = await app.api.get('/api/notifications?limit=100').set('Authorization', bearer(alice)).expect(200);
    expect(list.body.data.map((n: { id: string }) => n.id)).not.toContain(id);
    const stored = await app.ctx.mongo.collection('notifications').findOne({ title: 'Delete me' });
    expect(stored?.deletedAt).toBeInstanceOf(Date);
  });

  it('records a tapped action (and marks it read); an unknown action is 404', async () => {
    const id = (await note('Act', { actions: [{ id: 'open', label: 'View', kind: 'open' }] })).notification!.id;
    const res = await app.api.post(`/api/notifications/${id}/actions/open`).set('Authorization', bearer(alice)).expect(200);
    expect(res.body.data.readAt).toEqual(expect.any(String));
    const stored = await app.ctx.mongo.collection('notifications').findOne({ title: 'Act' });
    expect(stored?.actionTaps).toEqual([{ actionId: 'open', at: expect.any(Date) }]);
    await app.api.post(`/api/notifications/${id}/actions/accept`).set('Authorization', bearer(alice)).expect(404);
  });

  it('gets and updates preferences (categories × channels, quiet hours with time zone, digest)', async () => {
    const defaults = await app.api.get('/api/notifications/preferences').set('Authorization', bearer(alice)).expect(200);
    expect(defaults.body.data).toMatchObject({
      categories: { chat: ['inApp', 'push'], marketing: ['inApp', 'email'] },
      quietHours: { enabled: false, start: '22:00', end: '07:00', timezone: 'UTC' },
      digest: true,
    });
    const updated = await app.api
      .put('/api/notifications/preferences')
      .set('Authorization', bearer(alice))
      .send({ categories: { marketing: [] }, quietHours: { enabled: true, start: '23:00', timezone: 'Asia/Kolkata' }, digest: false })
      .expect(200);
    expect(updated.body.data).toMatchObject({
      categories: { marketing: ['inApp'], chat: ['inApp', 'push'] },
      quietHours: { enabled: true, start: '23:00', end: '07:00', timezone: 'Asia/Kolkata' },
      digest: false,
    });
    // One record of the choices: the account's preferences show the same.
    const me = await app.api.get('/api/auth/me').set('Authorization', bearer(alice)).expect(200);
    expect(me.body.data.preferences).toMatchObject({ timezone: 'Asia/Kolkata', notifications: { marketing: [] }, quietHours: { enabled: true, start: '23:00' } });
    // An opted-out category is suppressed by preference.
    const opted = await module.notify(alice.id, { category: 'marketing', title: 'Sale', body: 'b' });
    expect(opted.notification!.channels.find((c) => c.channel === 'email')).toMatchObject({ status: 'suppressed', reason: 'preference' });
  });

  it('registers and removes a push device; a stranger cannot remove it', async () => {
    const token = `fcm-token-${Date.now()}-abcdefghijklmnop`;
    const res = await app.api.post('/api/notifications/devices').set('Authorization', bearer(alice)).send({ token, platform: 'android', appVersion: '1.4.0' }).expect(201);
    expect(res.body.data).toMatchObject({ token, platform: 'android', appVersion: '1.4.0' });
    await app.api.post('/api/notifications/devices').set('Authorization', bearer(alice)).send({ token, platform: 'android' }).expect(201);
    expect(await app.ctx.mongo.collection('notification_devices').countDocuments({ _id: token as never })).toBe(1);
    await app.api.delete(`/api/notifications/devices/${encodeURIComponent(token)}`).set('Authorization', bearer(bob)).expect(404);
    await app.api.delete(`/api/notifications/devices/${encodeURIComponent(token)}`).set('Authorization', bearer(alice)).expect(204);
    await app.api.delete(`/api/notifications/devices/${encodeURIComponent(token)}`).set('Authorization', bearer(alice)).expect(404);
  });

  it('dedupes by key: the same key for the same user is one notification, even asked for at once', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => note('Once', { dedupeKey: 'offer.countered:o1:v2' })));
    const ids = new Set(results.map((r) => r.notification!.id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => !r.deduplicated)).toHaveLength(1);
    expect(await app.ctx.mongo.collection('notifications').countDocuments({ userId: alice.id, dedupeKey: 'offer.countered:o1:v2' })).toBe(1);
    // Another user with the same key gets their own.
    const other = await module.notify(bob.id, { category: 'offers', title: 'Once', body: 'b', dedupeKey: 'offer.countered:o1:v2' });
    expect(other.deduplicated).toBe(false);
  });

  it.each([
    ['get', '/api/notifications?limit=0', undefined, 'limit'],
    ['get', '/api/notifications?category=gossip', undefined, 'category'],
    ['get', '/api/notifications?read=maybe', undefined, 'read'],
    ['get', '/api/notifications?cursor=garbage', undefined, 'cursor'],
    ['get', '/api/notifications/not-an-id', undefined, 'id'],
    ['post', '/api/notifications/bulk', { action: 'archive', ids: ['x'] }, 'action'],
    ['post', '/api/notifications/bulk', { action: 'read', ids: [] }, 'ids'],
    ['post', '/api/notifications/bulk', { action: 'read', ids: [{ $gt: '' }] }, 'ids.0.$gt'],
    ['put', '/api/notifications/preferences', { categories: { gossip: ['push'] } }, 'categories'],
    ['put', '/api/notifications/preferences', { categories: { chat: ['pigeon'] } }, 'categories.chat[0]'],
    ['put', '/api/notifications/preferences', { quietHours: { start: '25:00' } }, 'quietHours.start'],
    ['put', '/api/notifications/preferences', { quietHours: { timezone: 'Mars/Olympus' } }, 'quietHours.timezone'],
    ['patch', '/api/notifications/preferences', { digest: 'yes' }, 'digest'],
    ['post', '/api/notifications/devices', { token: 'short', platform: 'android' }, 'token'],
    ['post', '/api/notifications/devices', { token: 'a-long-enough-token-value', platform: 'windows' }, 'platform'],
  ] as const)('answers 400 VALIDATION_FAILED to %s %s', async (method, path, body, field) => {
    const req = app.api[method](path).set('Authorization', bearer(alice));
    const res = body ? await req.send(body) : await req;
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
  });

  it('admin delivery stats count by day, channel and category, with reads on in-app', async () => {
    const now = Date.now();
    const { rows, truncated } = await module.admin.stats({ from: new Date(now - 86_400_000), to: new Date(now + 60_000) });
    expect(truncated).toBe(false);
    const sum = (channel: string, field: 'delivered' | 'read' | 'suppressed' | 'sent') =>
      rows.filter((r) => r.channel === channel && r.category === 'offers').reduce((total, r) => total + r[field], 0);
    const stored = await app.ctx.mongo.collection('notifications').countDocuments({ category: 'offers' });
    const read = await app.ctx.mongo.collection('notifications').countDocuments({ category: 'offers', readAt: { $ne: null } });
    expect(sum('inApp', 'delivered')).toBe(stored);
    expect(sum('inApp', 'read')).toBe(read);
    expect(read).toBeGreaterThan(0);
    expect(sum('email', 'suppressed')).toBe(stored);
    expect(sum('email', 'sent')).toBe(0);
  });

  it('requires authentication', async () => {
    await app.api.get('/api/notifications').expect(401);
    await app.api.get('/api/notifications/unread-count').expect(401);
  });
});
