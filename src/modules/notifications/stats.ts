import type { NotificationModels } from './notifications.model';

export interface StatsRow {
  day: string;
  channel: string;
  category: string;
  sent: number;
  delivered: number;
  failed: number;
  suppressed: number;
  pending: number;
  /** In-app rows only: notifications read. */
  read: number;
}

/** Rows read per stats call at most: the admin narrows the range beyond it. */
const MAX_ROWS = 100_000;

/**
 * Delivery figures by day (UTC), channel and category for an admin (served by the admin module).
 * Counted in the process from one indexed range read: FerretDB 1.24 lacks the $group stages
 * MongoDB would use, and the range is bounded.
 */
export async function deliveryStats(models: NotificationModels, range: { from: Date; to: Date }): Promise<{ rows: StatsRow[]; truncated: boolean }> {
  const rows = await models.deliveries
    .find({ createdAt: { $gte: range.from, $lt: range.to } }, { channel: 1, category: 1, status: 1, createdAt: 1, notificationId: 1 })
    .limit(MAX_ROWS + 1)
    .lean();
  const inAppIds = rows.filter((r) => r.channel === 'inApp').map((r) => r.notificationId);
  const readIds = new Set<string>();
  for (let i = 0; i < inAppIds.length; i += 1_000) {
    const read = await models.notifications.find({ _id: { $in: inAppIds.slice(i, i + 1_000) }, readAt: { $ne: null } }, { _id: 1 }).lean();
    for (const n of read) readIds.add(String(n._id));
  }
  const table = new Map<string, StatsRow>();
  for (const r of rows.slice(0, MAX_ROWS)) {
    const day = r.createdAt.toISOString().slice(0, 10);
    const key = `${day}|${r.channel}|${r.category}`;
    const row = table.get(key) ?? { day, channel: r.channel, category: r.category, sent: 0, delivered: 0, failed: 0, suppressed: 0, pending: 0, read: 0 };
    if (r.status === 'sent') row.sent += 1;
    else if (r.status === 'delivered') {
      row.sent += 1;
      row.delivered += 1;
    } else if (r.status === 'failed') row.failed += 1;
    else if (r.status === 'suppressed') row.suppressed += 1;
    else row.pending += 1;
    if (r.channel === 'inApp' && readIds.has(r.notificationId)) row.read += 1;
    table.set(key, row);
  }
  const sorted = [...table.values()].sort((a, b) => a.day.localeCompare(b.day) || a.channel.localeCompare(b.channel) || a.category.localeCompare(b.category));
  return { rows: sorted, truncated: rows.length > MAX_ROWS };
}
