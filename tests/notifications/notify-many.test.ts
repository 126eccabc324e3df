import { Types } from 'mongoose';
import type { UsersModule } from '../../src/modules/users';
import { createLifecycleEvents } from '../../src/modules/notifications/lifecycle-events';
import { getNotificationModels } from '../../src/modules/notifications/notifications.model';
import { createNotifyService, type DeliverJob } from '../../src/modules/notifications/notify.service';
import { startTestServer, type TestServer } from '../helpers/server';
import { createUser, type TestUser } from '../helpers/users';

/**
 * notifyMany (a campaign batch): one claim per person and dedupe key, each a single-document
 * insert, so a batch run again, or two runs at once, notify nobody twice; a claim whose
 * notification a crash left unwritten is completed under the claim's id.
 */
describe('notifyMany stores one notification per person and dedupe key', () => {
  let app: TestServer;
  let people: TestUser[];
  let notify: ReturnType<typeof createNotifyService>;
  const queued: string[] = [];

  beforeAll(async () => {
    app = await startTestServer();
    const users = app.server.modules.find((m) => m.name === 'users') as UsersModule;
    // The app's own job runner, with a queue of this test's: it records what notifyMany hands on.
    const deliverQueue = app.ctx.jobs.queue<DeliverJob>('test.notify-many.deliver', async (job) => void queued.push(job.deliveryId));
    notify = createNotifyService({
      models: getNotificationModels(app.ctx.mongo),
      recipients: {
        profile: (id) => users.directory.notificationProfile(id),
        updatePreferences: () => Promise.resolve(),
        listIds: (segment, afterId, limit) => users.directory.listIds(segment, afterId, limit),
      },
      configured: { inApp: true, push: false, email: true, sms: false },
      deliverQueue,
      announce: () => Promise.resolve(),
      clock: () => new Date(),
      logger: app.ctx.logger,
      lifecycle: createLifecycleEvents(app.ctx.events),
    });
    people = [];
    for (let i = 0; i < 4; i += 1) people.push(await createUser(app, { name: `Person ${i}` }));
  }, 120_000);
  afterAll(() => app.close());

  const input = (dedupeKey: string) => ({ category: 'marketing' as const, title: 'Fair', body: 'Meet buyers.', dedupeKey, channels: ['inApp' as const, 'email' as const] });
  const notificationsOf = (dedupeKey: string) => app.ctx.mongo.collection('notifications').find({ dedupeKey }).toArray();
  const deliveriesOf = async (dedupeKey: string) => {
    const ids = (await notificationsOf(dedupeKey)).map((n) => String(n._id));
    return app.ctx.mongo.collection('notification_deliveries').countDocuments({ notificationId: { $in: ids } });
  };

  it('a batch run again notifies nobody twice; unknown and deleted accounts are skipped', async () => {
    const ids = [...people.map((p) => p.id), new Types.ObjectId().toHexString()];
    expect(await notify.notifyMany(ids, input('k1'))).toEqual({ created: 4, deduplicated: 0, skipped: 1 });
    const deliveries = await deliveriesOf('k1');
    expect(deliveries).toBe(8);
    expect(await notify.notifyMany(ids, input('k1'))).toEqual({ created: 0, deduplicated: 4, skipped: 1 });
    expect((await notificationsOf('k1')).map((n) => n.userId).sort()).toEqual(people.map((p) => p.id).sort());
    expect(await deliveriesOf('k1')).toBe(deliveries);
  });

  it('two runs of one batch at once store exactly one notification per person', async () => {
    const ids = people.map((p) => p.id);
    const runs = await Promise.all([notify.notifyMany(ids, input('k2')), notify.notifyMany(ids, input('k2')), notify.notifyMany(ids, input('k2'))]);
    const stored = await notificationsOf('k2');
    expect(stored.map((n) => n.userId).sort()).toEqual(ids.slice().sort());
    // Each person was created by some run; a run that found another's claim may still have
    // written that notification (its claim came first, its notification not yet), never a second one.
    expect(runs.reduce((sum, r) => sum + r.created + r.deduplicated, 0)).toBe(12);
    expect(await deliveriesOf('k2')).toBe(8);
  });

  it('completes, under the claim’s id, a notification a crash left unwritten after its claim', async () => {
    const ids = people.map((p) => p.id);
    await notify.notifyMany(ids, input('k3'));
    const [lost] = await notificationsOf('k3');
    if (!lost) throw new Error('nothing stored');
    await app.ctx.mongo.collection('notifications').deleteOne({ _id: lost._id });
    expect(await notify.notifyMany(ids, input('k3'))).toEqual({ created: 1, deduplicated: 3, skipped: 0 });
    const again = await notificationsOf('k3');
    expect(again).toHaveLength(4);
    expect(again.some((n) => String(n._id) === String(lost._id) && n.userId === lost.userId)).toBe(true);
    // Its deliveries were already stored (deterministic ids): none twice.
    expect(await deliveriesOf('k3')).toBe(8);
  });
});
