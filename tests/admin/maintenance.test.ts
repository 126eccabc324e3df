import { Types } from 'mongoose';
import type { Role } from '../../src/platform/auth-context';
import { startTestServer, type TestServer } from '../helpers/server';
import { bearer, createUser, type TestUser } from '../helpers/users';
import { usersByRole } from './helpers';
import { directConversation } from '../chat/chat-helpers';

describe('admin maintenance: follower/following count repairs', () => {
  let app: TestServer;
  let people: Record<Role, TestUser>;

  beforeAll(async () => {
    app = await startTestServer({ env: { RATE_LIMIT_MAX: '100000' } });
    people = await usersByRole(app);
  }, 120_000);
  afterAll(() => app.close());

  const post = (path: string, body: object, who: TestUser = people.admin) => app.api.post(path).set('Authorization', bearer(who)).send(body);
  const corrupt = (id: string, followersCount: number, followingCount: number) =>
    app.ctx.mongo.collection('users').updateOne({ _id: new Types.ObjectId(id) }, { $set: { followersCount, followingCount } });
  const countsOf = async (id: string) => {
    const doc = await app.ctx.mongo.collection('users').findOne({ _id: new Types.ObjectId(id) });
    return { followersCount: doc?.followersCount ?? 0, followingCount: doc?.followingCount ?? 0 };
  };
  const audit = async (query: string) => (await app.api.get(`/api/admin/audit?${query}`).set('Authorization', bearer(people.admin))).body.data;

  it('repairs one account from the follow edges, audited with the counts before and after', async () => {
    const star = await createUser(app);
    const fan = await createUser(app);
    expect((await app.api.post(`/api/users/${star.id}/follow`).set('Authorization', bearer(fan)).send({})).status).toBeLessThan(300);
    await corrupt(star.id, 40, 3);
    const res = await post(`/api/admin/users/${star.id}/repair-counts`, { reason: 'Counts drifted after an incident' });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ userId: star.id, before: { followersCount: 40, followingCount: 3 }, after: { followersCount: 1, followingCount: 0 }, changed: true });
    expect(await countsOf(star.id)).toEqual({ followersCount: 1, followingCount: 0 });
    const [entry] = await audit(`action=user.repair_counts&targetId=${star.id}`);
    expect(entry).toMatchObject({ actor: { id: people.admin.id }, target: { type: 'user', id: star.id }, before: { followersCount: 40, followingCount: 3 }, after: { followersCount: 1, followingCount: 0 }, reason: 'Counts drifted after an incident' });
    // A second run finds nothing to change.
    expect((await post(`/api/admin/users/${star.id}/repair-counts`, { reason: 'Check again' })).body.data.changed).toBe(false);
  });

  it('answers 400 without a reason or with a bad id, 404 for an unknown account, 403 for non-admins', async () => {
    expect((await post(`/api/admin/users/${people.user.id}/repair-counts`, {})).status).toBe(400);
    expect((await post('/api/admin/users/not-an-id/repair-counts', { reason: 'because' })).status).toBe(400);
    expect((await post(`/api/admin/users/${new Types.ObjectId().toHexString()}/repair-counts`, { reason: 'because' })).status).toBe(404);
    expect((await post(`/api/admin/users/${people.user.id}/repair-counts`, { reason: 'because' }, people.vendor)).status).toBe(403);
    expect((await post('/api/admin/users/repair-counts', { reason: 'because' }, people.user)).status).toBe(403);
    expect((await post('/api/admin/users/repair-counts', { reason: 'x' })).status).toBe(400);
  });

  it('queues a full repair as a job that fixes every drifted account and audits what it did', async () => {
    const a = await createUser(app);
    const b = await createUser(app);
    await corrupt(a.id, 9, 9);
    await corrupt(b.id, 0, 5);
    const res = await post('/api/admin/users/repair-counts', { reason: 'Nightly check by hand' });
    expect(res.status).toBe(202);
    const jobKey = res.body.data.jobKey as string;
    expect(res.body.data).toEqual({ jobKey, queued: true });
    expect((await audit('action=users.repair_all_counts.queued'))[0]).toMatchObject({ actor: { id: people.admin.id }, after: { jobKey } });
    const deadline = Date.now() + 30_000;
    while ((await audit('action=users.repair_all_counts')).length === 0) {
      if (Date.now() > deadline) throw new Error('the repair job did not finish');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const [done] = await audit('action=users.repair_all_counts');
    expect(done).toMatchObject({ actor: { id: people.admin.id }, after: { jobKey, lastId: expect.any(String) }, reason: 'Nightly check by hand' });
    expect(done.after.checked).toBeGreaterThanOrEqual(6);
    expect(done.after.repaired).toBeGreaterThanOrEqual(2);
    expect(await countsOf(a.id)).toEqual({ followersCount: 0, followingCount: 0 });
    expect(await countsOf(b.id)).toEqual({ followersCount: 0, followingCount: 0 });
  }, 60_000);

  describe('chat repair', () => {
    it("recomputes a drifted conversation's last number from its messages, audited with what changed; a second run changes nothing", async () => {
      const [alice, bob] = [await createUser(app), await createUser(app)];
      const conversationId = await directConversation(app, alice, bob);
      for (const text of ['one', 'two', 'three']) {
        await app.api.post(`/api/chat/conversations/${conversationId}/messages`).set('Authorization', bearer(alice)).send({ type: 'text', text, clientMessageId: `${conversationId}-${text}` }).expect(201);
      }
      await app.ctx.mongo.collection('chat_conversations').updateOne({ _id: new Types.ObjectId(conversationId) }, { $set: { lastSeq: 1 } });
      const bobsUnread = async () => {
        const list = await app.api.get('/api/chat/conversations?limit=50').set('Authorization', bearer(bob)).expect(200);
        return list.body.data.find((c: { id: string }) => c.id === conversationId)?.unreadCount;
      };
      expect(await bobsUnread()).toBe(1);

      const res = await post(`/api/admin/chat/conversations/${conversationId}/repair`, { reason: 'Unread badge wrong after an incident' });
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({ conversationId, changed: true, fixed: expect.arrayContaining(['lastSeq 1 → 3']) });
      expect(await bobsUnread()).toBe(3);
      const [entry] = await audit(`action=chat.repair_conversation&targetId=${conversationId}`);
      expect(entry).toMatchObject({ actor: { id: people.admin.id }, target: { type: 'conversation', id: conversationId }, after: { fixed: expect.arrayContaining(['lastSeq 1 → 3']) }, reason: 'Unread badge wrong after an incident' });

      const again = await post(`/api/admin/chat/conversations/${conversationId}/repair`, { reason: 'Check again' });
      expect(again.body.data).toEqual({ conversationId, fixed: [], changed: false });
    });

    it('answers 400 without a reason or with a bad id, 404 for an unknown conversation, 403 for non-admins', async () => {
      const unknown = new Types.ObjectId().toHexString();
      expect((await post(`/api/admin/chat/conversations/${unknown}/repair`, {})).status).toBe(400);
      expect((await post('/api/admin/chat/conversations/not-an-id/repair', { reason: 'because' })).status).toBe(400);
      expect((await post(`/api/admin/chat/conversations/${unknown}/repair`, { reason: 'because' })).status).toBe(404);
      expect((await post(`/api/admin/chat/conversations/${unknown}/repair`, { reason: 'because' }, people.vendor)).status).toBe(403);
      expect((await post(`/api/admin/chat/conversations/${unknown}/repair`, { reason: 'because' }, people.user)).status).toBe(403);
    });
  });
});
