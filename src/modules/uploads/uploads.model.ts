import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { UPLOAD_KINDS, type UploadKind } from './uploads.types';

export interface UploadDoc {
  _id: Types.ObjectId;
  ownerId: string;
  kind: UploadKind;
  mimeType: string;
  /** Bytes of the stored file (after re-encoding for images). */
  size: number;
  /** Of the stored bytes, so integrity checks compare like with like. */
  sha256: string;
  storageKey: string;
  thumbnailKey?: string;
  thumbnailSize?: number;
  /** The client's name for the file, cleaned; kept only for display and Content-Disposition. */
  fileName: string;
  width?: number;
  height?: number;
  durationMs?: number;
  /** Conversations the file was sent in: their participants may fetch it, and it may not be deleted. */
  conversationIds: string[];
  createdAt: Date;
}

const uploadSchema = new Schema<UploadDoc>(
  {
    ownerId: { type: String, required: true },
    kind: { type: String, enum: UPLOAD_KINDS, required: true },
    mimeType: { type: String, required: true },
    size: { type: Number, required: true },
    sha256: { type: String, required: true },
    storageKey: { type: String, required: true },
    thumbnailKey: { type: String },
    thumbnailSize: { type: Number },
    fileName: { type: String, required: true },
    width: { type: Number },
    height: { type: Number },
    durationMs: { type: Number },
    conversationIds: { type: [String], default: [] },
    createdAt: { type: Date, required: true },
  },
  { collection: 'uploads', versionKey: false },
);
uploadSchema.index({ ownerId: 1, createdAt: -1 });
uploadSchema.index({ storageKey: 1 }, { unique: true });

export type UploadModel = Model<UploadDoc>;

export function getUploadModel(connection: Connection): UploadModel {
  return (connection.models.Upload as UploadModel | undefined) ?? connection.model<UploadDoc>('Upload', uploadSchema);
}
