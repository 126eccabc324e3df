import { Schema, type Connection, type Model, type Types } from 'mongoose';

export const WEBHOOK_PROVIDERS = ['stripe', 'razorpay', 'payu', 'twilio', 'logistics', 'ai'] as const;
export type Provider = (typeof WEBHOOK_PROVIDERS)[number];

export const WEBHOOK_STATUSES = ['pending', 'processed', 'ignored', 'failed'] as const;
export type WebhookStatus = (typeof WEBHOOK_STATUSES)[number];

/** One run of the handler: by the job (with its attempt number) or by an admin's replay. */
export interface AttemptRecord {
  at: Date;
  by: 'job' | 'replay';
  result: 'processed' | 'ignored' | 'error';
  note: string | null;
  durationMs: number;
}

export interface WebhookEventDoc {
  _id: Types.ObjectId;
  provider: Provider;
  eventId: string;
  /** `<provider>:<eventId>`, unique: the insert that claims the event (a duplicate delivery loses it). */
  dedupeKey: string;
  type: string;
  receivedAt: Date;
  /** Only verified deliveries are stored; the field says which scheme vouched for it. */
  verification: string;
  occurredAt: Date | null;
  headers: Record<string, string>;
  /**
   * The raw body as received (UTF-8 text). Kept verbatim rather than as parsed JSON: provider
   * payloads may hold keys with dots or `$`, which the store treats specially, and the handler
   * sees exactly what was verified.
   */
  body: string;
  status: WebhookStatus;
  note: string | null;
  attempts: number;
  attemptLog: AttemptRecord[];
  /** The last time the status moved (processed, ignored or failed); for filters and the reconciliation. */
  settledAt: Date | null;
}

const attemptSchema = new Schema<AttemptRecord>(
  {
    at: { type: Date, required: true },
    by: { type: String, enum: ['job', 'replay'], required: true },
    result: { type: String, enum: ['processed', 'ignored', 'error'], required: true },
    note: { type: String, default: null },
    durationMs: { type: Number, required: true },
  },
  { _id: false },
);

const webhookEventSchema = new Schema<WebhookEventDoc>(
  {
    provider: { type: String, enum: WEBHOOK_PROVIDERS, required: true },
    eventId: { type: String, required: true },
    dedupeKey: { type: String, required: true },
    type: { type: String, required: true },
    receivedAt: { type: Date, required: true },
    verification: { type: String, required: true },
    occurredAt: { type: Date, default: null },
    headers: { type: Schema.Types.Mixed, default: {} },
    body: { type: String, required: true },
    status: { type: String, enum: WEBHOOK_STATUSES, required: true },
    note: { type: String, default: null },
    attempts: { type: Number, required: true, default: 0 },
    attemptLog: { type: [attemptSchema], default: [] },
    settledAt: { type: Date, default: null },
  },
  { collection: 'webhook_events', versionKey: false, minimize: false },
);
webhookEventSchema.index({ dedupeKey: 1 }, { unique: true });
// The reconciliation's query and the admin list's filters.
webhookEventSchema.index({ status: 1, receivedAt: 1 });
webhookEventSchema.index({ provider: 1, receivedAt: -1 });
webhookEventSchema.index({ receivedAt: -1 });

export type WebhookEventModel = Model<WebhookEventDoc>;

export function getWebhookEventModel(connection: Connection): WebhookEventModel {
  return (connection.models.WebhookEvent as WebhookEventModel | undefined) ?? connection.model<WebhookEventDoc>('WebhookEvent', webhookEventSchema);
}
