import type { Socket } from 'socket.io-client';
import { startTestServer, type TestServer } from '../helpers/server';
import { bearer, type TestUser } from '../helpers/users';
import { CHAT_TEST_ENV, clientId, openSocket, users } from './chat-helpers';

// 50 receipts queue on one member's lock: on a loaded machine the last waits longer than the helper's 5 s.
const emit = (socket: Socket, event: string, payload: unknown) => socket.timeout(60_000).emitWithAck(event, payload);

/**
 * Unread counts are `lastSeq − lastReadSeq`, and the positions only move forward under the
 * member's lock (issue 18: "unread counts stay exact under 50 concurrent read/unread operations").
 * 50 receipts at once on ONE member, read and delivered, over REST and the socket, to numbers in
 * a random order: the member must end at the highest read asked for, delivered at least that,
 * and every view must show exactly lastSeq minus it.
 */
describe('one member\'s read position and unread count under 50 concurrent receipts', () => {
  let app: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let socket: Socket;

  beforeAll(async () => {
    app = await startTestServer({ env: CHAT_TEST_ENV });
    [alice, bob, carol] = (await users(app, 3)) as [TestUser, TestUser, TestUser];
    socket = await openSocket(app.url, bob);
  }, 120_000);
  afterAll(async () => {
    socket.close();
    await app.close();
  });

  it('ends at exactly the highest read and lastSeq minus it, in the list and the view', async () => {
    const created = await app.api.post('/api/chat/conversations').set('Authorization', bearer(alice)).send({ type: 'group', title: 'Receipts', participantIds: [bob.id, carol.id] }).expect(201);
    const conversationId = created.body.data.id as string;
    const TOTAL = 40;
    for (let i = 0; i < TOTAL; i += 1) {
      await app.api.post(`/api/chat/conversations/${conversationId}/messages`).set('Authorization', bearer(alice)).send({ clientMessageId: clientId(), text: `m${i}` }).expect(201);
    }
    // Numbers in a scrambled order, the highest read (31) somewhere in the middle, never 40.
    const reads = Array.from({ length: 25 }, (_, i) => ((i * 7) % 31) + 1);
    const deliveries = Array.from({ length: 25 }, (_, i) => ((i * 11) % 37) + 1);
    const answers: { lastReadSeq: number; lastDeliveredSeq: number }[] = [];
    const operations = [
      ...reads.map((seq, i) =>
        i % 2 === 0
          ? app.api.post(`/api/chat/conversations/${conversationId}/read`).set('Authorization', bearer(bob)).send({ seq }).then((res) => {
              expect(res.status).toBe(200);
              answers.push(res.body.data);
            })
          : emit(socket, 'chat:read', { conversationId, seq }).then((ack: { ok: boolean; data: { lastReadSeq: number; lastDeliveredSeq: number } }) => {
              expect(ack.ok).toBe(true);
              answers.push(ack.data);
            }),
      ),
      ...deliveries.map((seq) =>
        emit(socket, 'chat:delivered', { conversationId, seq }).then((ack: { ok: boolean; data: { lastReadSeq: number; lastDeliveredSeq: number } }) => {
          expect(ack.ok).toBe(true);
          answers.push(ack.data);
        }),
      ),
    ];
    expect(operations).toHaveLength(50);
    await Promise.all(operations);

    const read = Math.max(...reads);
    const delivered = Math.max(read, ...deliveries);
    // No answer ever showed a position above what was asked for, nor delivered below read.
    for (const answer of answers) {
      expect(answer.lastReadSeq).toBeLessThanOrEqual(read);
      expect(answer.lastDeliveredSeq).toBeGreaterThanOrEqual(answer.lastReadSeq);
    }
    const view = await app.api.get(`/api/chat/conversations/${conversationId}`).set('Authorization', bearer(bob)).expect(200);
    expect(view.body.data.unreadCount).toBe(TOTAL - read);
    const self = (view.body.data.participants as { userId: string; lastReadSeq: number; lastDeliveredSeq: number }[]).find((p) => p.userId === bob.id);
    expect(self).toMatchObject({ lastReadSeq: read, lastDeliveredSeq: delivered });
    const list = await app.api.get('/api/chat/conversations').set('Authorization', bearer(bob)).expect(200);
    expect((list.body.data as { id: string; unreadCount: number }[]).find((c) => c.id === conversationId)?.unreadCount).toBe(TOTAL - read);
    // The other reader is untouched; a stranger's receipt is refused as not found.
    const carolView = await app.api.get(`/api/chat/conversations/${conversationId}`).set('Authorization', bearer(carol)).expect(200);
    expect(carolView.body.data.unreadCount).toBe(TOTAL);
    const stranger = (await users(app, 1))[0] as TestUser;
    await app.api.post(`/api/chat/conversations/${conversationId}/read`).set('Authorization', bearer(stranger)).send({ seq: 5 }).expect(404);
    await app.api.post(`/api/chat/conversations/${conversationId}/read`).set('Authorization', bearer(bob)).send({ seq: 'x' }).expect(400);
  }, 120_000);

  it('a mute and a role change racing 30 receipts on the same member row lose neither the setting nor a position', async () => {
    const created = await app.api.post('/api/chat/conversations').set('Authorization', bearer(alice)).send({ type: 'group', title: 'Settings race', participantIds: [bob.id, carol.id] }).expect(201);
    const conversationId = created.body.data.id as string;
    for (let i = 0; i < 30; i += 1) {
      await app.api.post(`/api/chat/conversations/${conversationId}/messages`).set('Authorization', bearer(alice)).send({ clientMessageId: clientId(), text: `s${i}` }).expect(201);
    }
    const reads = Array.from({ length: 30 }, (_, i) => ((i * 13) % 29) + 1);
    await Promise.all([
      ...reads.map((seq) => emit(socket, 'chat:read', { conversationId, seq }).then((ack: { ok: boolean }) => expect(ack.ok).toBe(true))),
      app.api.patch(`/api/chat/conversations/${conversationId}/settings`).set('Authorization', bearer(bob)).send({ muted: true }).expect(200),
      app.api.patch(`/api/chat/conversations/${conversationId}/members/${bob.id}`).set('Authorization', bearer(alice)).send({ role: 'admin' }).expect(200),
    ]);
    const view = await app.api.get(`/api/chat/conversations/${conversationId}`).set('Authorization', bearer(bob)).expect(200);
    expect(view.body.data.muted).toBe(true);
    const self = (view.body.data.participants as { userId: string; role: string; lastReadSeq: number }[]).find((p) => p.userId === bob.id);
    expect(self).toMatchObject({ role: 'admin', lastReadSeq: Math.max(...reads) });
  }, 120_000);
});
