import { AppError, type PlatformErrorCode } from '../../platform/errors';

/** Codes of chat's own, beyond the platform's: part of its contract (index.ts). */
export const CHAT_ERROR_CODES = ['EDIT_WINDOW_CLOSED'] as const;
export type ChatErrorCode = PlatformErrorCode | (typeof CHAT_ERROR_CODES)[number];

/**
 * The retry hint of a refused send: `details: [{ field: 'retryAfterMs', message: '<ms>' }]` (and
 * Retry-After on REST). Jittered between the base and twice it, so clients refused together do not
 * come back together.
 */
export function retryHint(baseMs: number, random: () => number = Math.random) {
  const retryAfterMs = Math.round(baseMs * (1 + random()));
  return { details: [{ field: 'retryAfterMs', message: String(retryAfterMs) }], headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) } };
}

export const chatErrors = {
  retryLater: (message: string, baseMs: number) => {
    const hint = retryHint(baseMs);
    return new AppError('SERVICE_UNAVAILABLE', message, 503, hint.details, hint.headers);
  },
  rateLimited: (retryAfterMs: number) => {
    const hint = retryHint(retryAfterMs, () => 0);
    return new AppError('RATE_LIMITED', 'Too many messages, try again later', 429, hint.details, hint.headers);
  },
  conversationNotFound: () => new AppError('NOT_FOUND', 'Conversation not found', 404),
  messageNotFound: () => new AppError('NOT_FOUND', 'Message not found', 404),
  userNotFound: () => new AppError('NOT_FOUND', 'User not found', 404),
  editWindowClosed: () => new AppError('EDIT_WINDOW_CLOSED' satisfies ChatErrorCode, 'The time to edit this message has passed', 403),
  notSender: () => new AppError('FORBIDDEN', 'Only the sender may change this message', 403),
  notGroupAdmin: () => new AppError('FORBIDDEN', 'Only a group admin may do this', 403),
  notGroup: () => new AppError('VALIDATION_FAILED', 'Membership changes apply to group conversations only', 400),
  messageDeleted: () => new AppError('CONFLICT', 'The message was deleted', 409),
  clientMessageIdReused: () =>
    new AppError('CONFLICT', 'This clientMessageId was already used for a message in another conversation', 409),
  groupFull: (max: number) => new AppError('VALIDATION_FAILED', `A group has at most ${max} members`, 400),
  attachmentsUnavailable: () =>
    new AppError('VALIDATION_FAILED', 'Attachments are not available', 400, [
      { field: 'attachmentIds', message: 'Attachments are not supported on this server' },
    ]),
};
