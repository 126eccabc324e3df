import { Types } from 'mongoose';
import { DEFAULT_PAGE_LIMIT, decodeCursor, encodeCursor, isObjectIdHex } from '../../platform/pagination';
import type { Logger } from '../../platform/logger';
import type { AdminActor } from './admin.guard';
import type { AdminModels, AuditEntryDoc } from './admin.model';
import { csvRecord } from './csv';

export interface AuditInput {
  action: string;
  targetType: string;
  targetId: string | null;
  before?: unknown;
  after?: unknown;
  reason?: string | null;
}

export interface AuditFilters {
  actorId?: string;
  targetId?: string;
  targetType?: string;
  action?: string;
  from?: string;
  to?: string;
}

export function toAuditView(doc: AuditEntryDoc) {
  return {
    id: String(doc._id),
    at: doc.at.toISOString(),
    actor: { id: doc.actorId, role: doc.actorRole },
    action: doc.action,
    target: { type: doc.targetType, id: doc.targetId },
    before: doc.before ?? null,
    after: doc.after ?? null,
    reason: doc.reason,
    ip: doc.ip,
    userAgent: doc.userAgent,
    requestId: doc.requestId,
  };
}
export type AuditEntryView = ReturnType<typeof toAuditView>;

const CSV_COLUMNS = ['id', 'at', 'actorId', 'actorRole', 'action', 'targetType', 'targetId', 'reason', 'ip', 'userAgent', 'requestId', 'before', 'after'];
const isCursor = (value: Record<string, unknown>): value is { id: string } => isObjectIdHex(value.id);

function toFilter(filters: AuditFilters, beforeId?: string): Record<string, unknown> {
  const filter: Record<string, unknown> = {};
  if (filters.actorId) filter.actorId = filters.actorId;
  if (filters.targetId) filter.targetId = filters.targetId;
  if (filters.targetType) filter.targetType = filters.targetType;
  if (filters.action) filter.action = filters.action;
  if (filters.from || filters.to) {
    filter.at = { ...(filters.from ? { $gte: new Date(filters.from) } : {}), ...(filters.to ? { $lt: new Date(filters.to) } : {}) };
  }
  if (beforeId) filter._id = { $lt: new Types.ObjectId(beforeId) };
  return filter;
}

/** The append-only trail of admin actions: written by every admin use case, read by GET /api/admin/audit. */
export function createAuditTrail(models: AdminModels, clock: () => Date, logger: Logger) {
  return {
    /**
     * Records an action that has just been done. If the store refuses, the entry goes to the log at
     * error level in full (the log is then the trail) and the caller is not failed: the action happened.
     */
    async record(actor: AdminActor, input: AuditInput): Promise<AuditEntryView | null> {
      const entry = {
        at: clock(),
        actorId: actor.userId,
        actorRole: actor.role,
        action: input.action,
        targetType: input.targetType,
        targetId: input.targetId,
        before: input.before ?? null,
        after: input.after ?? null,
        reason: input.reason ?? null,
        ip: actor.ip,
        userAgent: actor.userAgent,
        requestId: actor.requestId,
      };
      try {
        const created = await models.audit.create(entry);
        return toAuditView(created.toObject() as AuditEntryDoc);
      } catch (err) {
        logger.error('Could not store an admin audit entry', { entry: JSON.stringify(entry), error: err instanceof Error ? err.message : String(err) });
        return null;
      }
    },

    async list(filters: AuditFilters & { limit?: number; cursor?: string }) {
      const limit = filters.limit ?? DEFAULT_PAGE_LIMIT;
      const after = decodeCursor(filters.cursor || undefined, isCursor);
      const rows = await models.audit.find(toFilter(filters, after?.id)).sort({ _id: -1 }).limit(limit + 1).lean<AuditEntryDoc[]>();
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return { data: page.map(toAuditView), page: { nextCursor: rows.length > limit && last ? encodeCursor({ id: String(last._id) }) : null, limit } };
    },

    /** CSV records (header first), newest first, read in pages of 500 so memory stays flat; at most `maxRows`. */
    async *exportCsv(filters: AuditFilters, maxRows: number): AsyncGenerator<string> {
      yield csvRecord(CSV_COLUMNS);
      let beforeId: string | undefined;
      let sent = 0;
      while (sent < maxRows) {
        const rows = await models.audit
          .find(toFilter(filters, beforeId))
          .sort({ _id: -1 })
          .limit(Math.min(500, maxRows - sent))
          .lean<AuditEntryDoc[]>();
        if (rows.length === 0) return;
        for (const doc of rows) {
          yield csvRecord([String(doc._id), doc.at, doc.actorId, doc.actorRole, doc.action, doc.targetType, doc.targetId, doc.reason, doc.ip, doc.userAgent, doc.requestId, doc.before, doc.after]);
        }
        sent += rows.length;
        beforeId = String(rows[rows.length - 1]?._id);
      }
    },
  };
}

export type AuditTrail = ReturnType<typeof createAuditTrail>;
