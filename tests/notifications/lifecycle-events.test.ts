import type { DomainEvents } from '../../src/platform/events';
import { startTestServer, type TestServer } from '../helpers/server';
import { bearer, createUser, type TestUser } from '../helpers/users';
import { notificationsOf } from './helpers';
import type { NotificationsModule } from '../../src/modules/notifications';

// Starting a server with its own databases takes seconds on a loaded machine; no assertion depends on time.
jest.setTimeout(90_000);

/** Analytics counts deliveries and reads from the bus: each read is announced once, and only the recipient's own. */
describe('notification lifecycle events', () => {
  let app: TestServer;
  let module: NotificationsModule;
  let alice: TestUser;
  let bob: TestUser;
  const delivered: DomainEvents['notification.delivered'][] = [];
  const read: DomainEvents['notification.read'][] = [];

  beforeAll(async () => {
    // Only in-app is configured here: in-app deliveries are delivered when stored.
    app = await startTestServer({ env: { RATE_LIMIT_MAX: '100000' } });
    module = notificationsOf(app);
    [alice, bob] = await Promise.all([createUser(app), createUser(app)]);
    app.ctx.events.subscribe('notification.delivered', (payload) => void delivered.push(payload));
    app.ctx.events.subscribe('notification.read', (payload) => void read.push(payload));
  });
  afterAll(async () => app.close());

  const note = async (userId: string, title: string) =>
    (await module.notify(userId, { category: 'offers', title, body: `${title} body` })).notification!.id;
  const readsOf = (id: string) => read.filter((event) => event.notificationId === id);

  it('announces the in-app delivery of a new notification, with ids, channel and category only', async () => {
    const id = await note(alice.id, 'Delivered');
    await app.ctx.events.drain();
    const mine = delivered.filter((event) => event.notificationId === id);
    expect(mine).toEqual([{ notificationId: id, deliveryId: expect.any(String), userId: alice.id, channel: 'inApp', category: 'offers', at: expect.any(String) }]);
  });

  it('announces a read once, however often it is repeated, and never for a stranger', async () => {
    const id = await note(alice.id, 'Read me');
    await app.api.post(`/api/notifications/${id}/read`).set('Authorization', bearer(bob)).expect(404);
    await app.ctx.events.drain();
    expect(readsOf(id)).toHaveLength(0);
    await app.api.post(`/api/notifications/${id}/read`).set('Authorization', bearer(alice)).expect(200);
    await app.api.post(`/api/notifications/${id}/read`).set('Authorization', bearer(alice)).expect(200);
    await app.ctx.events.drain();
    expect(readsOf(id)).toEqual([{ notificationId: id, userId: alice.id, category: 'offers', at: expect.any(String) }]);
  });

  it('announces each notification a bulk read or a read-all reads, and none already read', async () => {
    const [a, b, c, d] = [await note(alice.id, 'A'), await note(alice.id, 'B'), await note(alice.id, 'C'), await note(alice.id, 'D')];
    const bobs = await note(bob.id, 'Bob');
    await app.api.post('/api/notifications/bulk').set('Authorization', bearer(alice)).send({ action: 'read', ids: [a, b, bobs] }).expect(200);
    await app.api.post('/api/notifications/bulk').set('Authorization', bearer(alice)).send({ action: 'read', ids: [a] }).expect(200);
    const all = await app.api.post('/api/notifications/read-all').set('Authorization', bearer(alice)).send({}).expect(200);
    await app.ctx.events.drain();
    expect([a, b, c, d].map((id) => readsOf(id).length)).toEqual([1, 1, 1, 1]);
    expect(readsOf(bobs)).toHaveLength(0);
    expect(all.body.data).toMatchObject({ unreadCount: 0 });
    expect(all.body.data.updated).toBeGreaterThanOrEqual(2);
    const again = await app.api.post('/api/notifications/read-all').set('Authorization', bearer(alice)).send({}).expect(200);
    await app.ctx.events.drain();
    expect(again.body.data).toMatchObject({ updated: 0, unreadCount: 0 });
    expect([a, b, c, d].map((id) => readsOf(id).length)).toEqual([1, 1, 1, 1]);
  });
});
