import { Schema, type Connection, type Model, type Types } from 'mongoose';
import {
  ACTION_KINDS,
  CHANNELS,
  DELIVERY_STATUSES,
  NOTIFICATION_CATEGORIES,
  PRIORITIES,
  type Channel,
  type DeliveryStatus,
  type NotificationAction,
  type NotificationCategory,
  type Priority,
} from './notifications.types';

/** One notification to one person: the in-app inbox entry and the root of its deliveries. */
export interface NotificationDoc {
  _id: Types.ObjectId;
  userId: string;
  category: NotificationCategory;
  priority: Priority;
  title: string;
  body: string;
  data: Record<string, string>;
  actions: NotificationAction[];
  dedupeKey: string | null;
  campaignId: string | null;
  /** Each channel's plan as decided at notify time (the deliveries record what happened next). */
  plan: Array<{ channel: Channel; status: DeliveryStatus; reason: string | null; notBefore: Date | null }>;
  actionTaps: Array<{ actionId: string; at: Date }>;
  readAt: Date | null;
  seenAt: Date | null;
  deletedAt: Date | null;
  createdAt: Date;
}

/**
 * One channel's delivery of one notification, `_id` `<notificationId>:<channel>`. A document per
 * channel because each is written by its own job and by provider callbacks: on FerretDB an
 * update rewrites the whole document, so two channels sharing one would lose each other's writes.
 */
export interface DeliveryDoc {
  _id: string;
  notificationId: string;
  userId: string;
  channel: Channel;
  category: NotificationCategory;
  campaignId: string | null;
  status: DeliveryStatus;
  reason: string | null;
  /** Not sent before this instant (the end of the user's quiet hours). */
  notBefore: Date | null;
  attempts: number;
  /** A running attempt holds the delivery until then (a crashed one is taken over after it). */
  leaseUntil: Date | null;
  /** Twilio's MessageSid, the SMTP message id, FCM's message name. */
  providerId: string | null;
  history: Array<{ status: DeliveryStatus; at: Date; reason: string | null }>;
  createdAt: Date;
  updatedAt: Date;
}

/** Claims a dedupe key: `_id` `<userId>:<key>`; the unique insert decides who notifies. */
export interface DedupeClaimDoc {
  _id: string;
  notificationId: string;
  createdAt: Date;
}

export const DEVICE_PLATFORMS = ['ios', 'android'] as const;
export type DevicePlatform = (typeof DEVICE_PLATFORMS)[number];

/** A push token registered by the app; `_id` is the token, so it belongs to one user at a time. */
export interface DeviceDoc {
  _id: string;
  userId: string;
  platform: DevicePlatform;
  appVersion: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** What the module keeps of a user's choices beyond users' preferences (categories, quiet hours). */
export interface SettingsDoc {
  _id: string;
  digest: boolean;
  updatedAt: Date;
}

/**
 * The open chat digest of a user, `_id` `<userId>:chat`: inserted by the first unread message
 * while they are offline (the unique insert makes it one), removed when its job decides.
 */
export interface DigestDoc {
  _id: string;
  userId: string;
  startedAt: Date;
  dueAt: Date;
}

/** What a digest run decided, `_id` `<userId>:chat:<startedAt ms>`. */
export interface DigestOutcomeDoc {
  _id: string;
  userId: string;
  outcome: 'sent' | 'cancelled';
  unread: number;
  notificationId: string | null;
  at: Date;
}

export interface CampaignDoc {
  _id: Types.ObjectId;
  title: string;
  body: string;
  data: Record<string, string>;
  segment: { roles: string[]; countries: string[]; activeWithinDays: number | null };
  scheduledAt: Date;
  status: 'scheduled' | 'sending' | 'sent';
  createdBy: string;
  createdAt: Date;
  finishedAt: Date | null;
}

/** One batch of a campaign, `_id` `<campaignId>:<n>`: how many it targeted and where the next starts. */
export interface CampaignBatchDoc {
  _id: string;
  campaignId: string;
  index: number;
  targeted: number;
  lastUserId: string | null;
  at: Date;
}

const actionSchema = new Schema<NotificationAction>(
  { id: { type: String, required: true }, label: { type: String, required: true }, kind: { type: String, enum: ACTION_KINDS, required: true } },
  { _id: false },
);

const notificationSchema = new Schema<NotificationDoc>(
  {
    userId: { type: String, required: true },
    category: { type: String, enum: NOTIFICATION_CATEGORIES, required: true },
    priority: { type: String, enum: PRIORITIES, required: true },
    title: { type: String, required: true },
    body: { type: String, required: true },
    data: { type: Schema.Types.Mixed, default: () => ({}) },
    actions: { type: [actionSchema], default: [] },
    dedupeKey: { type: String, default: null },
    campaignId: { type: String, default: null },
    plan: {
      type: [
        new Schema(
          {
            channel: { type: String, enum: CHANNELS, required: true },
            status: { type: String, enum: DELIVERY_STATUSES, required: true },
            reason: { type: String, default: null },
            notBefore: { type: Date, default: null },
          },
          { _id: false },
        ),
      ],
      default: [],
    },
    actionTaps: { type: [new Schema({ actionId: String, at: Date }, { _id: false })], default: [] },
    readAt: { type: Date, default: null },
    seenAt: { type: Date, default: null },
    deletedAt: { type: Date, default: null },
    createdAt: { type: Date, required: true },
  },
  { collection: 'notifications', minimize: false, versionKey: false },
);
// The inbox pages newest first per user; unread counts and digests filter on readAt.
notificationSchema.index({ userId: 1, _id: -1 });
notificationSchema.index({ userId: 1, readAt: 1 });
notificationSchema.index({ campaignId: 1 });

const deliverySchema = new Schema<DeliveryDoc>(
  {
    _id: { type: String, required: true },
    notificationId: { type: String, required: true },
    userId: { type: String, required: true },
    channel: { type: String, enum: CHANNELS, required: true },
    category: { type: String, enum: NOTIFICATION_CATEGORIES, required: true },
    campaignId: { type: String, default: null },
    status: { type: String, enum: DELIVERY_STATUSES, required: true },
    reason: { type: String, default: null },
    notBefore: { type: Date, default: null },
    attempts: { type: Number, default: 0 },
    leaseUntil: { type: Date, default: null },
    providerId: { type: String, default: null },
    history: { type: [new Schema({ status: String, at: Date, reason: String }, { _id: false })], default: [] },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'notification_deliveries', minimize: false, versionKey: false },
);
deliverySchema.index({ status: 1, notBefore: 1 });
deliverySchema.index({ providerId: 1 });
deliverySchema.index({ notificationId: 1 });
deliverySchema.index({ campaignId: 1 });
deliverySchema.index({ createdAt: 1 });

const claimSchema = new Schema<DedupeClaimDoc>(
  { _id: { type: String, required: true }, notificationId: { type: String, required: true }, createdAt: { type: Date, required: true } },
  { collection: 'notification_keys', versionKey: false },
);

const deviceSchema = new Schema<DeviceDoc>(
  {
    _id: { type: String, required: true },
    userId: { type: String, required: true },
    platform: { type: String, enum: DEVICE_PLATFORMS, required: true },
    appVersion: { type: String, default: null },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'notification_devices', versionKey: false },
);
deviceSchema.index({ userId: 1 });

const settingsSchema = new Schema<SettingsDoc>(
  { _id: { type: String, required: true }, digest: { type: Boolean, default: true }, updatedAt: { type: Date, required: true } },
  { collection: 'notification_settings', versionKey: false },
);

const digestSchema = new Schema<DigestDoc>(
  { _id: { type: String, required: true }, userId: { type: String, required: true }, startedAt: { type: Date, required: true }, dueAt: { type: Date, required: true } },
  { collection: 'notification_digests', versionKey: false },
);
digestSchema.index({ dueAt: 1 });

const digestOutcomeSchema = new Schema<DigestOutcomeDoc>(
  {
    _id: { type: String, required: true },
    userId: { type: String, required: true },
    outcome: { type: String, enum: ['sent', 'cancelled'], required: true },
    unread: { type: Number, required: true },
    notificationId: { type: String, default: null },
    at: { type: Date, required: true },
  },
  { collection: 'notification_digest_outcomes', versionKey: false },
);
digestOutcomeSchema.index({ userId: 1, at: -1 });

const campaignSchema = new Schema<CampaignDoc>(
  {
    title: { type: String, required: true },
    body: { type: String, required: true },
    data: { type: Schema.Types.Mixed, default: () => ({}) },
    segment: {
      roles: { type: [String], default: [] },
      countries: { type: [String], default: [] },
      activeWithinDays: { type: Number, default: null },
    },
    scheduledAt: { type: Date, required: true },
    status: { type: String, enum: ['scheduled', 'sending', 'sent'], required: true },
    createdBy: { type: String, required: true },
    createdAt: { type: Date, required: true },
    finishedAt: { type: Date, default: null },
  },
  { collection: 'notification_campaigns', minimize: false, versionKey: false },
);
campaignSchema.index({ status: 1, scheduledAt: 1 });
campaignSchema.index({ createdAt: -1 });

const batchSchema = new Schema<CampaignBatchDoc>(
  {
    _id: { type: String, required: true },
    campaignId: { type: String, required: true },
    index: { type: Number, required: true },
    targeted: { type: Number, required: true },
    lastUserId: { type: String, default: null },
    at: { type: Date, required: true },
  },
  { collection: 'notification_campaign_batches', versionKey: false },
);
batchSchema.index({ campaignId: 1, index: 1 });

function model<T>(mongo: Connection, name: string, schema: Schema<T>): Model<T> {
  return (mongo.models[name] as Model<T> | undefined) ?? mongo.model<T>(name, schema);
}

export interface NotificationModels {
  notifications: Model<NotificationDoc>;
  deliveries: Model<DeliveryDoc>;
  claims: Model<DedupeClaimDoc>;
  devices: Model<DeviceDoc>;
  settings: Model<SettingsDoc>;
  digests: Model<DigestDoc>;
  digestOutcomes: Model<DigestOutcomeDoc>;
  campaigns: Model<CampaignDoc>;
  campaignBatches: Model<CampaignBatchDoc>;
}

export function getNotificationModels(mongo: Connection): NotificationModels {
  return {
    notifications: model(mongo, 'Notification', notificationSchema),
    deliveries: model(mongo, 'NotificationDelivery', deliverySchema),
    claims: model(mongo, 'NotificationKey', claimSchema),
    devices: model(mongo, 'NotificationDevice', deviceSchema),
    settings: model(mongo, 'NotificationSettings', settingsSchema),
    digests: model(mongo, 'NotificationDigest', digestSchema),
    digestOutcomes: model(mongo, 'NotificationDigestOutcome', digestOutcomeSchema),
    campaigns: model(mongo, 'NotificationCampaign', campaignSchema),
    campaignBatches: model(mongo, 'NotificationCampaignBatch', batchSchema),
  };
}
