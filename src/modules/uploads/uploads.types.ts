export const UPLOAD_KINDS = ['image', 'document', 'voice'] as const;
export type UploadKind = (typeof UPLOAD_KINDS)[number];

export interface AllowedType {
  /** The Content-Type we store and serve. */
  mimeType: string;
  ext: string;
}

/**
 * What each kind accepts, keyed by the MIME type file-type reports from the content. The served
 * type is normalised (file-type calls WebM "video/webm" even for a voice note).
 */
export const ALLOWED: Record<UploadKind, Record<string, AllowedType>> = {
  image: {
    'image/jpeg': { mimeType: 'image/jpeg', ext: 'jpg' },
    'image/png': { mimeType: 'image/png', ext: 'png' },
    'image/webp': { mimeType: 'image/webp', ext: 'webp' },
    'image/heic': { mimeType: 'image/heic', ext: 'heic' },
  },
  document: {
    'application/pdf': { mimeType: 'application/pdf', ext: 'pdf' },
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document': {
      mimeType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      ext: 'docx',
    },
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': {
      mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      ext: 'xlsx',
    },
    'text/csv': { mimeType: 'text/csv; charset=utf-8', ext: 'csv' },
  },
  voice: {
    'audio/opus': { mimeType: 'audio/ogg', ext: 'ogg' },
    'audio/ogg': { mimeType: 'audio/ogg', ext: 'ogg' },
    'audio/x-m4a': { mimeType: 'audio/mp4', ext: 'm4a' },
    'audio/mp4': { mimeType: 'audio/mp4', ext: 'm4a' },
    // Android records AAC in an MP4 with the generic "isom" brand; media.ts refuses it if it holds video.
    'video/mp4': { mimeType: 'audio/mp4', ext: 'm4a' },
    'audio/aac': { mimeType: 'audio/aac', ext: 'aac' },
    'audio/mpeg': { mimeType: 'audio/mpeg', ext: 'mp3' },
    'video/webm': { mimeType: 'audio/webm', ext: 'webm' },
  },
};

export const KIND_LABEL: Record<UploadKind, string> = {
  image: 'JPEG, PNG, WebP or HEIC images',
  document: 'PDF, DOCX, XLSX or CSV documents',
  voice: 'Ogg/Opus, AAC/M4A, MP3 or WebM audio',
};

/** What a chat message carries so the app can show a file without another call. */
export interface Attachment {
  uploadId: string;
  kind: UploadKind;
  mimeType: string;
  size: number;
  fileName: string;
  width?: number;
  height?: number;
  durationMs?: number;
  thumbnailUrl?: string;
  url: string;
}

export type IsParticipant = (conversationId: string, userId: string) => Promise<boolean>;
