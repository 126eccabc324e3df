import type { FilterQuery } from 'mongoose';
import { errors } from '../../platform/errors';
import { parseObjectId } from '../../platform/mongo';
import { DEFAULT_PAGE_LIMIT, decodeCursor, encodeCursor, isNonNegativeInt, isObjectIdHex } from '../../platform/pagination';
import type { InboxService } from './inbox.service';
import { toEventDetail, toEventSummary } from './webhooks.mapper';
import { webhooksErrors } from './webhooks.errors';
import type { WebhookEventDoc, WebhookEventModel } from './webhooks.model';
import type { WebhookEventListQuery, WebhooksAdmin } from './webhooks.types';

type Cursor = { r: number; i: string };
const isCursor = (v: Record<string, unknown>): v is Cursor => isNonNegativeInt(v.r) && isObjectIdHex(v.i);

function parseDate(value: string | undefined, field: string): Date | null {
  if (value === undefined) return null;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw errors.validation([{ field, message: `${field} must be an ISO 8601 time` }]);
  return date;
}

/** What the admin module mounts under /api/admin/webhooks (it checks the role; this trusts its caller). */
export function createAdminHandlers(deps: { events: WebhookEventModel; inbox: InboxService }): WebhooksAdmin {
  const { events, inbox } = deps;
  return {
    async list(query: WebhookEventListQuery) {
      const limit = Math.min(Math.max(query.limit ?? DEFAULT_PAGE_LIMIT, 1), 100);
      const cursor = decodeCursor(query.cursor, isCursor);
      const from = parseDate(query.from, 'from');
      const to = parseDate(query.to, 'to');
      const filter: FilterQuery<WebhookEventDoc> = {};
      if (query.provider) filter.provider = query.provider;
      if (query.type) filter.type = query.type;
      if (query.outcome) filter.status = query.outcome;
      const received: Record<string, Date> = {};
      if (from) received.$gte = from;
      if (to) received.$lt = to;
      if (Object.keys(received).length) filter.receivedAt = received;
      if (cursor) {
        const at = new Date(cursor.r);
        filter.$and = [{ $or: [{ receivedAt: { $lt: at } }, { receivedAt: at, _id: { $lt: parseObjectId(cursor.i) } }] }];
      }
      const docs = await events
        .find(filter, { body: 0, headers: 0, attemptLog: 0 })
        .sort({ receivedAt: -1, _id: -1 })
        .limit(limit + 1)
        .lean<WebhookEventDoc[]>();
      const page = docs.slice(0, limit);
      const last = page[page.length - 1];
      return {
        data: page.map(toEventSummary),
        page: { nextCursor: docs.length > limit && last ? encodeCursor({ r: last.receivedAt.getTime(), i: last._id.toHexString() }) : null, limit },
      };
    },

    async get(id) {
      const _id = parseObjectId(id);
      const doc = _id ? await events.findById(_id).lean<WebhookEventDoc>() : null;
      if (!doc) throw webhooksErrors.eventNotFound();
      return toEventDetail(doc);
    },

    async replay(id) {
      return toEventDetail(await inbox.replay(id));
    },
  };
}
