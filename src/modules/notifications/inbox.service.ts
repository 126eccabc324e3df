import { Types } from 'mongoose';
import type { Server as IoServer } from 'socket.io';
import { userRoom } from '../../platform/auth-context';
import { parseObjectId } from '../../platform/mongo';
import { DEFAULT_PAGE_LIMIT, decodeCursor, encodeCursor, isObjectIdHex } from '../../platform/pagination';
import type { JobQueue } from '../../platform/jobs';
import type { NotificationDoc, NotificationModels } from './notifications.model';
import { toDeliveryView, toNotificationView, type NotificationView } from './notifications.mapper';
import type { NotificationCategory } from './notifications.types';
import type { LifecycleEvents } from './lifecycle-events';
import { notificationErrors } from './notifications.errors';

type Cursor = { id: string };
const isCursor = (v: Record<string, unknown>): v is Cursor => isObjectIdHex(v.id);

export interface ActionJob {
  notificationId: string;
  userId: string;
  actionId: string;
  category: NotificationCategory;
  data: Record<string, string>;
}

/** The recipient's own inbox: every read and write is scoped to the caller, and anyone else's id is 404. */
export function createInboxService(deps: { models: NotificationModels; io: IoServer; clock: () => Date; actionQueue: JobQueue<ActionJob>; lifecycle: LifecycleEvents }) {
  const { models, io, clock, lifecycle } = deps;
  /** Read-all reads in slices of this many ids, so the reads it announces are exactly the ones it made. */
  const READ_ALL_SLICE = 500;
  const live = (userId: string) => ({ userId, deletedAt: null });

  async function own(userId: string, id: string): Promise<NotificationDoc> {
    const oid = parseObjectId(id);
    const found = oid ? await models.notifications.findOne({ _id: oid, ...live(userId) }).lean() : null;
    if (!found) throw notificationErrors.notFound();
    return found;
  }

  const unreadCount = (userId: string) => models.notifications.countDocuments({ ...live(userId), readAt: null });

  async function announceCount(userId: string): Promise<number> {
    const count = await unreadCount(userId);
    io.to(userRoom(userId)).emit('notification:unread_count', { count });
    return count;
  }

  return {
    unreadCount,

    async list(userId: string, query: { limit?: number; cursor?: string; read?: boolean; category?: NotificationCategory }) {
      const limit = query.limit ?? DEFAULT_PAGE_LIMIT;
      const after = decodeCursor(query.cursor || undefined, isCursor);
      const filter: Record<string, unknown> = live(userId);
      if (query.read === true) filter.readAt = { $ne: null };
      if (query.read === false) filter.readAt = null;
      if (query.category) filter.category = query.category;
      if (after) filter._id = { $lt: new Types.ObjectId(after.id) };
      const rows = await models.notifications.find(filter).sort({ _id: -1 }).limit(limit + 1).lean();
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        data: page.map(toNotificationView),
        page: { nextCursor: rows.length > limit && last ? encodeCursor({ id: String(last._id) }) : null, limit },
      };
    },

    /** One notification with each channel's delivery as it stands now. */
    async get(userId: string, id: string) {
      const n = await own(userId, id);
      const deliveries = await models.deliveries.find({ notificationId: String(n._id) }).lean();
      return { ...toNotificationView(n), deliveries: deliveries.map(toDeliveryView) };
    },

    async markRead(userId: string, id: string): Promise<NotificationView> {
      const n = await own(userId, id);
      if (n.readAt) return toNotificationView(n);
      const now = clock();
      const $set = { readAt: now, seenAt: n.seenAt ?? now };
      await models.notifications.updateOne({ _id: n._id, userId }, { $set });
      lifecycle.read(n, now);
      await announceCount(userId);
      return toNotificationView({ ...n, ...$set });
    },

    async markSeen(userId: string, id: string): Promise<NotificationView> {
      const n = await own(userId, id);
      if (n.seenAt) return toNotificationView(n);
      const seenAt = clock();
      await models.notifications.updateOne({ _id: n._id, userId }, { $set: { seenAt } });
      return toNotificationView({ ...n, seenAt });
    },

    async readAll(userId: string, category?: NotificationCategory): Promise<{ updated: number; unreadCount: number }> {
      const now = clock();
      const filter: Record<string, unknown> = { ...live(userId), readAt: null };
      if (category) filter.category = category;
      await models.notifications.updateMany({ ...filter, seenAt: null }, { $set: { seenAt: now } });
      // By id, slice by slice: each notification read here is announced once (analytics counts reads).
      let updated = 0;
      let after: Types.ObjectId | null = null;
      for (;;) {
        const page: Record<string, unknown> = after ? { ...filter, _id: { $gt: after } } : filter;
        const slice = await models.notifications.find(page, { _id: 1, userId: 1, category: 1 }).sort({ _id: 1 }).limit(READ_ALL_SLICE).lean();
        if (slice.length === 0) break;
        after = slice[slice.length - 1]!._id;
        await models.notifications.updateMany({ _id: { $in: slice.map((n) => n._id) }, userId }, { $set: { readAt: now } });
        for (const n of slice) lifecycle.read(n, now);
        updated += slice.length;
        if (slice.length < READ_ALL_SLICE) break;
      }
      return { updated, unreadCount: await announceCount(userId) };
    },

    /** Reads or deletes a list of the caller's ids; ids that are not theirs (or not ids) are ignored and counted. */
    async bulk(userId: string, action: 'read' | 'delete', ids: string[]): Promise<{ updated: number; ignored: number; unreadCount: number }> {
      const unique = [...new Set(ids)];
      const oids = unique.map(parseObjectId).filter((id): id is Types.ObjectId => id !== null);
      const mine = oids.length ? await models.notifications.find({ _id: { $in: oids }, ...live(userId) }, { _id: 1, userId: 1, category: 1, readAt: 1, seenAt: 1 }).lean() : [];
      const now = clock();
      const targets = mine.map((n) => n._id);
      let updated = 0;
      if (targets.length) {
        if (action === 'delete') {
          updated = (await models.notifications.updateMany({ _id: { $in: targets }, userId }, { $set: { deletedAt: now } })).modifiedCount;
        } else {
          const unread = mine.filter((n) => !n.readAt);
          const unseen = mine.filter((n) => !n.seenAt).map((n) => n._id);
          if (unseen.length) await models.notifications.updateMany({ _id: { $in: unseen }, userId }, { $set: { seenAt: now } });
          if (unread.length) await models.notifications.updateMany({ _id: { $in: unread.map((n) => n._id) }, userId }, { $set: { readAt: now } });
          for (const n of unread) lifecycle.read(n, now);
          updated = unread.length;
        }
      }
      return { updated, ignored: unique.length - mine.length, unreadCount: await announceCount(userId) };
    },

    async remove(userId: string, id: string): Promise<void> {
      const n = await own(userId, id);
      await models.notifications.updateOne({ _id: n._id, userId }, { $set: { deletedAt: clock() } });
      if (!n.readAt) await announceCount(userId);
    },

    /** The app reports a tapped action: recorded on the notification, then the owning module's handler runs as a job. */
    async tapAction(userId: string, id: string, actionId: string): Promise<NotificationView> {
      const n = await own(userId, id);
      if (!(n.actions ?? []).some((a) => a.id === actionId)) throw notificationErrors.actionNotFound();
      const at = clock();
      const $set = { readAt: n.readAt ?? at, seenAt: n.seenAt ?? at };
      await models.notifications.updateOne({ _id: n._id, userId }, { $push: { actionTaps: { actionId, at } }, $set });
      await deps.actionQueue.enqueue(`${String(n._id)}:${actionId}`, { notificationId: String(n._id), userId, actionId, category: n.category, data: n.data ?? {} });
      if (!n.readAt) lifecycle.read(n, at);
      if (!n.readAt) await announceCount(userId);
      return toNotificationView({ ...n, ...$set, actionTaps: [...(n.actionTaps ?? []), { actionId, at }] });
    },
  };
}

export type InboxService = ReturnType<typeof createInboxService>;
