import type { Model, Types } from 'mongoose';
import { isDuplicateKey, parseObjectId } from '../../platform/mongo';
import type { Role } from '../../platform/auth-context';
import { normaliseEmail, type UserDoc, type UserStatus } from './user.model';
import type { UserWrites } from './user-writes';

/** The account record with the credential fields auth keeps on it (never selected otherwise). */
export interface SignInRecord extends UserDoc {
  passwordHash: string;
  lockedUntil: Date | null;
  failuresClearedAt: Date | null;
}

export interface NewAccount {
  email: string;
  name: string;
  phone?: string;
  role: Role;
  passwordHash: string;
  emailVerified?: boolean;
}

type Id = string | Types.ObjectId;

/**
 * What auth does with the account record. Users owns the `users` collection; auth owns the
 * password hash and the lockout fields on the same document and reaches them only through here,
 * so no other module ever holds the model. Emails are normalised here as everywhere.
 */
export interface UserAccounts {
  /** The new account, or null when the email is already taken (the unique index decides). */
  create(input: NewAccount): Promise<UserDoc | null>;
  /** By email, whatever its status, with the credential fields. */
  findForSignIn(email: string): Promise<SignInRecord | null>;
  /** An active account by email: whom a verification or reset mail goes to. */
  findActiveByEmail(email: string): Promise<Pick<UserDoc, '_id' | 'email' | 'name' | 'emailVerified'> | null>;
  findIdByEmail(email: string): Promise<Types.ObjectId | null>;
  /** Role and status, read on every request and refresh (one lookup by _id). */
  accessState(userId: Id): Promise<Pick<UserDoc, '_id' | 'role' | 'status'> | null>;
  passwordHashOf(userId: Id): Promise<{ _id: Types.ObjectId; passwordHash: string } | null>;
  lock(userId: Id, lockedUntil: Date, at: Date): Promise<void>;
  /** A successful sign-in: failures before `at` stop counting and any lock ends. */
  clearFailures(userId: Id, at: Date): Promise<void>;
  markEmailVerified(userId: Id): Promise<void>;
  /** A password change; `reset` (from a reset link, active accounts only) also verifies the email and clears the lockout. False when nothing matched. */
  setPassword(userId: Id, passwordHash: string, at: Date, options?: { reset?: boolean }): Promise<boolean>;
  /** create-admin: an existing account becomes an active, verified admin with this password. */
  promote(userId: Id, input: { role: Role; passwordHash: string; at: Date }): Promise<void>;
  /** Suspends, reinstates or deletes; false when no such account. Auth's access service calls it, and invalidates. */
  setStatus(userId: Id, status: UserStatus): Promise<boolean>;
  /** False when no such account. */
  setRole(userId: Id, role: Role): Promise<boolean>;
}

const toId = (id: Id) => (typeof id === 'string' ? parseObjectId(id) : id);

export function createUserAccounts(users: Model<UserDoc>, writes: Pick<UserWrites, 'update'>): UserAccounts {
  return {
    async create(input) {
      try {
        const created = await users.create({ ...input, email: normaliseEmail(input.email) });
        return created.toObject() as UserDoc;
      } catch (err) {
        if (isDuplicateKey(err)) return null;
        throw err;
      }
    },

    async findForSignIn(email) {
      return users
        .findOne({ email: normaliseEmail(email) })
        .select('+passwordHash +lockedUntil +failuresClearedAt')
        .lean<SignInRecord>();
    },

    findActiveByEmail: (email) =>
      users.findOne({ email: normaliseEmail(email), status: 'active' }, { email: 1, name: 1, emailVerified: 1 }).lean(),

    async findIdByEmail(email) {
      return (await users.findOne({ email: normaliseEmail(email) }, { _id: 1 }).lean())?._id ?? null;
    },

    async accessState(userId) {
      const id = toId(userId);
      return id ? users.findById(id, { role: 1, status: 1 }).lean() : null;
    },

    async passwordHashOf(userId) {
      const id = toId(userId);
      const user = id ? await users.findById(id).select('+passwordHash').lean() : null;
      return user ? { _id: user._id, passwordHash: user.passwordHash } : null;
    },

    async lock(userId, lockedUntil, at) {
      const id = toId(userId);
      if (id) await writes.update(id, { $set: { lockedUntil, failuresClearedAt: at } });
    },

    async clearFailures(userId, at) {
      const id = toId(userId);
      if (id) await writes.update(id, { $set: { failuresClearedAt: at, lockedUntil: null } });
    },

    async markEmailVerified(userId) {
      const id = toId(userId);
      if (id) await writes.update(id, { $set: { emailVerified: true } });
    },

    async setPassword(userId, passwordHash, at, options = {}) {
      const $set: Record<string, unknown> = { passwordHash, passwordChangedAt: at };
      // Reading the mail also proves the address, and a reset lifts a lock.
      if (options.reset) Object.assign($set, { emailVerified: true, failuresClearedAt: at, lockedUntil: null });
      // A reset link may outlive a suspension; a change comes from a signed-in (so active) caller.
      const id = toId(userId);
      return id ? writes.update(id, { $set }, options.reset ? { status: 'active' } : {}) : false;
    },

    async setStatus(userId, status) {
      const id = toId(userId);
      return id ? writes.update(id, { $set: { status } }) : false;
    },

    async setRole(userId, role) {
      const id = toId(userId);
      return id ? writes.update(id, { $set: { role } }) : false;
    },

    async promote(userId, input) {
      const id = toId(userId);
      if (!id) return;
      await writes.update(id, {
        $set: { role: input.role, status: 'active', emailVerified: true, passwordHash: input.passwordHash, passwordChangedAt: input.at },
      });
    },
  };
}
