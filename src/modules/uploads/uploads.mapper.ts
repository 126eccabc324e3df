import type { UploadDoc } from './uploads.model';
import type { Attachment, UploadKind } from './uploads.types';

export interface UploadView {
  id: string;
  kind: UploadKind;
  mimeType: string;
  size: number;
  sha256: string;
  fileName: string;
  width?: number;
  height?: number;
  durationMs?: number;
  url: string;
  thumbnailUrl?: string;
  /** True once the file was sent in a conversation (it can then no longer be deleted). */
  attached: boolean;
  createdAt: string;
}

const contentUrl = (id: string) => `/api/upload/${id}/content`;
const thumbnailUrl = (id: string) => `/api/upload/${id}/thumbnail`;

function mediaFields(doc: UploadDoc) {
  return {
    ...(doc.width !== undefined && doc.width !== null ? { width: doc.width } : {}),
    ...(doc.height !== undefined && doc.height !== null ? { height: doc.height } : {}),
    ...(doc.durationMs !== undefined && doc.durationMs !== null ? { durationMs: doc.durationMs } : {}),
    ...(doc.thumbnailKey ? { thumbnailUrl: thumbnailUrl(doc._id.toString()) } : {}),
  };
}

export function toUploadView(doc: UploadDoc): UploadView {
  const id = doc._id.toString();
  return {
    id,
    kind: doc.kind,
    mimeType: doc.mimeType,
    size: doc.size,
    sha256: doc.sha256,
    fileName: doc.fileName,
    ...mediaFields(doc),
    url: contentUrl(id),
    attached: doc.conversationIds.length > 0,
    createdAt: doc.createdAt.toISOString(),
  };
}

export function toAttachment(doc: UploadDoc): Attachment {
  const id = doc._id.toString();
  return {
    uploadId: id,
    kind: doc.kind,
    mimeType: doc.mimeType,
    size: doc.size,
    fileName: doc.fileName,
    ...mediaFields(doc),
    url: contentUrl(id),
  };
}
