import os from 'node:os';
import { DEFAULT_PAGE_LIMIT, decodeCursor, encodeCursor, isObjectIdHex } from '../../platform/pagination';
import type { Logger } from '../../platform/logger';
import { Types } from 'mongoose';
import { isDuplicateKey } from '../../platform/mongo';
import type { AdminModels, SystemEventDoc, SystemEventKind } from './admin.model';

const isCursor = (value: Record<string, unknown>): value is { id: string } => isObjectIdHex(value.id);
const PROCESS = `${os.hostname()}:${process.pid}`;

export function toSystemEventView(doc: SystemEventDoc) {
  return { id: String(doc._id), at: doc.at.toISOString(), kind: doc.kind, process: doc.process, details: doc.details ?? {} };
}

/** Process starts and stops (and other system happenings) as records an admin can list. */
export function createSystemEvents(models: AdminModels, clock: () => Date, logger: Logger) {
  return {
    /** host:pid, as every event of this process names it. */
    processName: PROCESS,
    /** Best effort: a system event never stops a start or a shutdown. */
    async record(kind: SystemEventKind, details: SystemEventDoc['details'] = {}): Promise<void> {
      await models.systemEvents.create({ at: clock(), kind, process: PROCESS, details }).catch((err: unknown) =>
        logger.warn('Could not record a system event', { kind, error: err instanceof Error ? err.message : String(err) }),
      );
    },

    /** Records the event unless one with this key was recorded before (by any process). */
    async recordOnce(key: string, kind: SystemEventKind, details: SystemEventDoc['details'] = {}): Promise<boolean> {
      try {
        await models.systemEventClaims.create({ _id: key, at: clock() });
      } catch (err) {
        if (isDuplicateKey(err)) return false;
        logger.warn('Could not claim a system event', { kind, error: err instanceof Error ? err.message : String(err) });
        return false;
      }
      await this.record(kind, details);
      return true;
    },

    async list(query: { kind?: SystemEventKind; limit?: number; cursor?: string }) {
      const limit = query.limit ?? DEFAULT_PAGE_LIMIT;
      const after = decodeCursor(query.cursor || undefined, isCursor);
      const filter: Record<string, unknown> = {};
      if (query.kind) filter.kind = query.kind;
      if (after) filter._id = { $lt: new Types.ObjectId(after.id) };
      const rows = await models.systemEvents.find(filter).sort({ _id: -1 }).limit(limit + 1).lean<SystemEventDoc[]>();
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return { data: page.map(toSystemEventView), page: { nextCursor: rows.length > limit && last ? encodeCursor({ id: String(last._id) }) : null, limit } };
    },
  };
}

export type SystemEvents = ReturnType<typeof createSystemEvents>;
