import { AppError, type PlatformErrorCode } from '../../platform/errors';

/** Codes of chat's own, beyond the platform's: part of its contract (index.ts). */
export const CHAT_ERROR_CODES = ['EDIT_WINDOW_CLOSED'] as const;
export type ChatErrorCode = PlatformErrorCode | (typeof CHAT_ERROR_CODES)[number];

export const chatErrors = {
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
