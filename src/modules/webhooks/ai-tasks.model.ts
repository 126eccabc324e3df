import { Schema, type Connection, type Model, type Types } from 'mongoose';

export const AI_TASKS = ['translate_message', 'extract_catalogue'] as const;
export type AiTaskKind = (typeof AI_TASKS)[number];
export const AI_TASK_STATUSES = ['running', 'succeeded', 'failed'] as const;
export type AiTaskStatus = (typeof AI_TASK_STATUSES)[number];

/** An asynchronous AI task the server started; the provider's callback is matched to it by correlationId. */
export interface AiTaskDoc {
  _id: Types.ObjectId;
  /** 128 random bits, unique: the only handle the provider gets. */
  correlationId: string;
  task: AiTaskKind;
  requesterId: string;
  /** What the task is about: the chat message to translate, the uploaded document to read. */
  subjectId: string;
  input: Record<string, string>;
  status: AiTaskStatus;
  /** The provider's output (JSON, stored as text: it may hold keys the store treats specially). */
  output: string | null;
  error: string | null;
  createdAt: Date;
  finishedAt: Date | null;
}

const aiTaskSchema = new Schema<AiTaskDoc>(
  {
    correlationId: { type: String, required: true },
    task: { type: String, enum: AI_TASKS, required: true },
    requesterId: { type: String, required: true },
    subjectId: { type: String, required: true },
    input: { type: Schema.Types.Mixed, default: {} },
    status: { type: String, enum: AI_TASK_STATUSES, required: true },
    output: { type: String, default: null },
    error: { type: String, default: null },
    createdAt: { type: Date, required: true },
    finishedAt: { type: Date, default: null },
  },
  { collection: 'webhook_ai_tasks', versionKey: false, minimize: false },
);
aiTaskSchema.index({ correlationId: 1 }, { unique: true });
aiTaskSchema.index({ requesterId: 1, createdAt: -1 });

export type AiTaskModel = Model<AiTaskDoc>;

export function getAiTaskModel(connection: Connection): AiTaskModel {
  return (connection.models.WebhookAiTask as AiTaskModel | undefined) ?? connection.model<AiTaskDoc>('WebhookAiTask', aiTaskSchema);
}
