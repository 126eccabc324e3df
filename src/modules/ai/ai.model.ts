import { Schema, type Connection, type Model, type Types } from 'mongoose';
import type { DraftOffer } from './draft-offer';

/**
 * The draft offer made from a finished catalogue extraction, one per task (unique taskId: the
 * insert is the claim, so a sink retried by the inbox job stores it once). Returned to the
 * uploader as the task's output.
 */
export interface AiDraftDoc {
  _id: Types.ObjectId;
  taskId: string;
  requesterId: string;
  uploadId: string;
  draftOffer: DraftOffer;
  droppedItems: number;
  createdAt: Date;
}

const draftSchema = new Schema<AiDraftDoc>(
  {
    taskId: { type: String, required: true },
    requesterId: { type: String, required: true },
    uploadId: { type: String, required: true },
    draftOffer: { type: Schema.Types.Mixed, required: true },
    droppedItems: { type: Number, required: true },
    createdAt: { type: Date, required: true },
  },
  { collection: 'ai_drafts', versionKey: false, minimize: false },
);
draftSchema.index({ taskId: 1 }, { unique: true });

export type AiDraftModel = Model<AiDraftDoc>;

export function getAiDraftModel(connection: Connection): AiDraftModel {
  return (connection.models.AiDraft as AiDraftModel | undefined) ?? connection.model<AiDraftDoc>('AiDraft', draftSchema);
}
