import { Schema, type Connection, type Model, type Types } from 'mongoose';
import type { Role } from '../../platform/auth-context';

export const ROLES: readonly Role[] = ['user', 'vendor', 'admin', 'super_admin'];
export const USER_STATUSES = ['active', 'suspended', 'deleted'] as const;
export type UserStatus = (typeof USER_STATUSES)[number];
export const NOTIFICATION_CATEGORIES = ['chat', 'offers', 'orders', 'finance', 'system', 'marketing'] as const;
export const NOTIFICATION_CHANNELS = ['push', 'email', 'sms', 'inApp'] as const;
export type NotificationCategory = (typeof NOTIFICATION_CATEGORIES)[number];
export type NotificationChannel = (typeof NOTIFICATION_CHANNELS)[number];

export interface Address {
  line1?: string;
  line2?: string;
  city?: string;
  state?: string;
  postalCode?: string;
  country?: string;
}

export interface BusinessProfile {
  companyName?: string;
  taxId?: string;
  address?: Address;
  categories: string[];
  description?: string;
  logoUploadId?: string;
}

export interface Preferences {
  language: string;
  timezone: string;
  /** Channels enabled per notification category; a missing category means the defaults. */
  notifications: Partial<Record<NotificationCategory, NotificationChannel[]>>;
  /** A daily window, in the user's timezone, when only urgent notifications are sent. */
  quietHours: { enabled: boolean; start: string; end: string };
}

export interface UserDoc {
  _id: Types.ObjectId;
  email: string;
  phone?: string;
  name: string;
  role: Role;
  status: UserStatus;
  emailVerified: boolean;
  passwordHash: string;
  passwordChangedAt?: Date;
  business: BusinessProfile;
  preferences: Preferences;
  followersCount: number;
  followingCount: number;
  /** Failed sign-ins before this instant no longer count (set by a success, a lock or a reset). */
  failuresClearedAt: Date | null;
  lockedUntil: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface FollowDoc {
  _id: Types.ObjectId;
  followerId: Types.ObjectId;
  followeeId: Types.ObjectId;
  createdAt: Date;
}

const addressSchema = new Schema<Address>(
  { line1: String, line2: String, city: String, state: String, postalCode: String, country: String },
  { _id: false },
);

const userSchema = new Schema<UserDoc>(
  {
    email: { type: String, required: true },
    phone: { type: String },
    name: { type: String, required: true },
    role: { type: String, enum: ROLES, default: 'user', required: true },
    status: { type: String, enum: USER_STATUSES, default: 'active', required: true },
    emailVerified: { type: Boolean, default: false },
    // Never selected unless a query asks for it by name (login, password change).
    passwordHash: { type: String, required: true, select: false },
    passwordChangedAt: { type: Date },
    business: {
      type: new Schema<BusinessProfile>(
        {
          companyName: String,
          taxId: String,
          address: { type: addressSchema },
          categories: { type: [String], default: [] },
          description: String,
          logoUploadId: String,
        },
        { _id: false },
      ),
      default: () => ({ categories: [] }),
    },
    preferences: {
      type: new Schema<Preferences>(
        {
          language: { type: String, default: 'en' },
          timezone: { type: String, default: 'UTC' },
          notifications: { type: Schema.Types.Mixed, default: () => ({}) },
          quietHours: {
            enabled: { type: Boolean, default: false },
            start: { type: String, default: '22:00' },
            end: { type: String, default: '07:00' },
          },
        },
        { _id: false, minimize: false },
      ),
      default: () => ({}),
    },
    followersCount: { type: Number, default: 0 },
    followingCount: { type: Number, default: 0 },
    failuresClearedAt: { type: Date, default: null, select: false },
    lockedUntil: { type: Date, default: null, select: false },
  },
  { timestamps: true, collection: 'users', minimize: false },
);
userSchema.index({ email: 1 }, { unique: true });
userSchema.index({ role: 1, _id: 1 });
// Admin search: an anchored name prefix, and the status filter.
userSchema.index({ name: 1 });
userSchema.index({ status: 1, _id: 1 });

const followSchema = new Schema<FollowDoc>(
  {
    followerId: { type: Schema.Types.ObjectId, required: true },
    followeeId: { type: Schema.Types.ObjectId, required: true },
  },
  { timestamps: { createdAt: true, updatedAt: false }, collection: 'follows' },
);
// The unique pair makes following idempotent; the other two serve the cursor pages.
followSchema.index({ followerId: 1, followeeId: 1 }, { unique: true });
followSchema.index({ followeeId: 1, _id: -1 });
followSchema.index({ followerId: 1, _id: -1 });

export function getUserModel(mongo: Connection): Model<UserDoc> {
  return (mongo.models.User as Model<UserDoc> | undefined) ?? mongo.model<UserDoc>('User', userSchema);
}

export function getFollowModel(mongo: Connection): Model<FollowDoc> {
  return (mongo.models.Follow as Model<FollowDoc> | undefined) ?? mongo.model<FollowDoc>('Follow', followSchema);
}

/** Emails are compared trimmed and lower-cased; provider-specific rules (dots, plus tags) are not applied. */
export const normaliseEmail = (email: string) => email.trim().toLowerCase();
