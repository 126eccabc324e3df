import type { Model } from 'mongoose';
import { escapeRegex, parseObjectId } from '../../platform/mongo';
import { DEFAULT_PAGE_LIMIT, decodeCursor, encodeCursor, isObjectIdHex } from '../../platform/pagination';
import type { Role } from '../../platform/auth-context';
import { normaliseEmail, type UserDoc, type UserStatus } from './user.model';
import { toMe, type MeView } from './users.mapper';

export interface UserSearchQuery {
  /** An id, or the start of an email or a name (escaped, anchored). */
  q?: string;
  role?: Role;
  status?: UserStatus;
  limit?: number;
  cursor?: string;
}

/** The admin module's questions about accounts (it checks the caller's role; this does not). */
export interface UserAdminDirectory {
  search(query: UserSearchQuery): Promise<{ data: MeView[]; page: { nextCursor: string | null; limit: number } }>;
  get(userId: string): Promise<MeView | null>;
  /** Accounts per role and status (the dashboard). */
  countByRoleAndStatus(): Promise<Array<{ role: string; status: string; count: number }>>;
}

const isCursor = (value: Record<string, unknown>): value is { id: string } => isObjectIdHex(value.id);

export function createUserAdminDirectory(users: Model<UserDoc>): UserAdminDirectory {
  return {
    async search({ q, role, status, limit = DEFAULT_PAGE_LIMIT, cursor }) {
      const after = decodeCursor(cursor || undefined, isCursor);
      const filter: Record<string, unknown> = {};
      if (role) filter.role = role;
      if (status) filter.status = status;
      const text = q?.trim();
      if (text) {
        const id = parseObjectId(text);
        // Anchored and escaped: the email prefix is served by the unique email index (emails are
        // stored lower-cased); the name prefix by the name index where the store can.
        filter.$or = id
          ? [{ _id: id }]
          : [{ email: { $regex: `^${escapeRegex(normaliseEmail(text))}` } }, { name: { $regex: `^${escapeRegex(text)}`, $options: 'i' } }];
      }
      if (after) filter._id = { ...(filter._id as object | undefined), $lt: parseObjectId(after.id) };
      const rows = await users.find(filter).sort({ _id: -1 }).limit(limit + 1).lean();
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return { data: page.map(toMe), page: { nextCursor: rows.length > limit && last ? encodeCursor({ id: String(last._id) }) : null, limit } };
    },

    async get(userId) {
      const id = parseObjectId(userId);
      const user = id ? await users.findById(id).lean() : null;
      return user ? toMe(user) : null;
    },

    async countByRoleAndStatus() {
      const rows = await users.aggregate<{ _id: { role: string; status: string }; count: number }>([
        { $group: { _id: { role: '$role', status: '$status' }, count: { $sum: 1 } } },
      ]);
      return rows.map((r) => ({ role: r._id.role, status: r._id.status, count: r.count })).sort((a, b) => `${a.role}${a.status}`.localeCompare(`${b.role}${b.status}`));
    },
  };
}
