import type { DeliveryDoc, NotificationDoc } from './notifications.model';

/** A notification as its recipient sees it (REST and the `system:notification` event). */
export function toNotificationView(n: NotificationDoc) {
  return {
    id: String(n._id),
    category: n.category,
    priority: n.priority,
    title: n.title,
    body: n.body,
    data: n.data ?? {},
    actions: (n.actions ?? []).map((a) => ({ id: a.id, label: a.label, kind: a.kind })),
    channels: (n.plan ?? []).map((p) => ({ channel: p.channel, status: p.status, reason: p.reason ?? null, notBefore: p.notBefore ? p.notBefore.toISOString() : null })),
    readAt: n.readAt ? n.readAt.toISOString() : null,
    seenAt: n.seenAt ? n.seenAt.toISOString() : null,
    createdAt: n.createdAt.toISOString(),
  };
}

export type NotificationView = ReturnType<typeof toNotificationView>;

/** One channel's delivery, for admins and tests: what happened, when, and why. */
export function toDeliveryView(d: DeliveryDoc) {
  return {
    id: d._id,
    notificationId: d.notificationId,
    channel: d.channel,
    status: d.status,
    reason: d.reason ?? null,
    notBefore: d.notBefore ? d.notBefore.toISOString() : null,
    attempts: d.attempts ?? 0,
    providerId: d.providerId ?? null,
    history: (d.history ?? []).map((h) => ({ status: h.status, at: h.at.toISOString(), reason: h.reason ?? null })),
    updatedAt: d.updatedAt.toISOString(),
  };
}

export type DeliveryView = ReturnType<typeof toDeliveryView>;
