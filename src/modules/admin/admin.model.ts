import { Schema, type Connection, type Model, type Types } from 'mongoose';

export interface AuditEntryDoc {
  _id: Types.ObjectId;
  at: Date;
  actorId: string;
  actorRole: string;
  action: string;
  targetType: string;
  targetId: string | null;
  before: unknown;
  after: unknown;
  reason: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
}

export const SYSTEM_EVENT_KINDS = ['process.started', 'process.stopped', 'job.failed', 'dependency.down', 'dependency.up'] as const;
export type SystemEventKind = (typeof SYSTEM_EVENT_KINDS)[number];

export interface SystemEventDoc {
  _id: Types.ObjectId;
  at: Date;
  kind: SystemEventKind;
  /** host:pid of the process that wrote it. */
  process: string;
  details: Record<string, string | number | boolean | null>;
}

const auditSchema = new Schema<AuditEntryDoc>(
  {
    at: { type: Date, required: true },
    actorId: { type: String, required: true },
    actorRole: { type: String, required: true },
    action: { type: String, required: true },
    targetType: { type: String, required: true },
    targetId: { type: String, default: null },
    before: { type: Schema.Types.Mixed, default: null },
    after: { type: Schema.Types.Mixed, default: null },
    reason: { type: String, default: null },
    ip: { type: String, default: null },
    userAgent: { type: String, default: null },
    requestId: { type: String, default: null },
  },
  { collection: 'admin_audit', versionKey: false, minimize: false },
);
// Pages are newest first by _id; each filter has its own index ending in _id.
auditSchema.index({ actorId: 1, _id: -1 });
auditSchema.index({ targetId: 1, _id: -1 });
auditSchema.index({ action: 1, _id: -1 });
auditSchema.index({ at: -1 });

// Append-only: the model refuses every update and delete, whoever calls it. (A database user
// with write rights can still change the collection; production should give the app's user
// insert and find only on it.)
const refuse = function (this: unknown) {
  throw new Error('The admin audit trail is append-only');
};
for (const op of ['updateOne', 'updateMany', 'findOneAndUpdate', 'findOneAndDelete', 'findOneAndReplace', 'replaceOne', 'deleteOne', 'deleteMany'] as const) {
  auditSchema.pre(op, refuse);
}

const systemEventSchema = new Schema<SystemEventDoc>(
  {
    at: { type: Date, required: true },
    kind: { type: String, enum: SYSTEM_EVENT_KINDS, required: true },
    process: { type: String, required: true },
    details: { type: Schema.Types.Mixed, default: () => ({}) },
  },
  { collection: 'admin_system_events', versionKey: false, minimize: false },
);
systemEventSchema.index({ kind: 1, _id: -1 });

/** One per system event that must be recorded once across processes (a failed job's key and failure time). */
const systemEventClaimSchema = new Schema<{ _id: string; at: Date }>({ _id: { type: String, required: true }, at: { type: Date, required: true } }, { collection: 'admin_system_event_claims', versionKey: false });

export function getAdminModels(mongo: Connection) {
  const audit = (mongo.models.AdminAudit as Model<AuditEntryDoc> | undefined) ?? mongo.model<AuditEntryDoc>('AdminAudit', auditSchema);
  const systemEvents = (mongo.models.AdminSystemEvent as Model<SystemEventDoc> | undefined) ?? mongo.model<SystemEventDoc>('AdminSystemEvent', systemEventSchema);
  const systemEventClaims =
    (mongo.models.AdminSystemEventClaim as Model<{ _id: string; at: Date }> | undefined) ?? mongo.model<{ _id: string; at: Date }>('AdminSystemEventClaim', systemEventClaimSchema);
  return { audit, systemEvents, systemEventClaims };
}

export type AdminModels = ReturnType<typeof getAdminModels>;
