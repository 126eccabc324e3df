import type { Schema } from '../../platform/http/validate';

export const MAX_TEXT_LENGTH = 4_000;
const CLIENT_TYPES = ['text', 'image', 'document', 'voice'];

const mongoId = (field: string, optional = false) => ({
  type: 'string' as const,
  ...(optional ? { optional: true } : {}),
  isMongoId: { errorMessage: `${field} must be an id` },
});

const limit = {
  type: 'integer' as const,
  optional: true,
  isInt: { options: { min: 1, max: 100 }, errorMessage: 'limit must be an integer from 1 to 100' },
  toInt: true,
};
const cursor = (field = 'cursor') => ({
  type: 'string' as const,
  optional: true,
  isString: { errorMessage: `${field} must be a string` },
  isLength: { options: { min: 1, max: 200 }, errorMessage: `${field} must be 1 to 200 characters` },
});

// Path ids are read from the path only, so a body field of the same name can never redirect a request.
const param = (field: string) => ({ in: ['params' as const], ...mongoId(field) });
export const conversationIdParam: Schema = { id: param('id') };
export const messageIdParam: Schema = { id: param('id') };
export const memberParams: Schema = { id: param('id'), userId: param('userId') };

export const createConversationSchema: Schema = {
  type: { type: 'string', isIn: { options: [['direct', 'group']], errorMessage: 'type must be direct or group' } },
  participantIds: {
    type: 'array',
    isArray: { options: { min: 1, max: 255 }, errorMessage: 'participantIds must be a list of 1 to 255 user ids' },
  },
  'participantIds.*': mongoId('participantIds'),
  title: {
    type: 'string',
    optional: true,
    isString: { errorMessage: 'title must be a string' },
    trim: true,
    isLength: { options: { min: 1, max: 120 }, errorMessage: 'title must be 1 to 120 characters' },
  },
};

export const listSchema: Schema = { limit, cursor: cursor() };

export const muteSchema: Schema = { muted: { type: 'boolean', isBoolean: { options: { strict: true }, errorMessage: 'muted must be true or false' } } };

export const addMembersSchema: Schema = {
  userIds: { type: 'array', isArray: { options: { min: 1, max: 100 }, errorMessage: 'userIds must be a list of 1 to 100 user ids' } },
  'userIds.*': mongoId('userIds'),
};
export const roleSchema: Schema = { role: { type: 'string', isIn: { options: [['admin', 'member']], errorMessage: 'role must be admin or member' } } };

export const sendBody: Schema = {
  clientMessageId: {
    type: 'string',
    isString: { errorMessage: 'clientMessageId must be a string' },
    matches: { options: /^[A-Za-z0-9_:-]{1,100}$/, errorMessage: 'clientMessageId must be 1 to 100 letters, digits, _ : or -' },
  },
  type: { type: 'string', optional: true, isIn: { options: [CLIENT_TYPES], errorMessage: `type must be one of ${CLIENT_TYPES.join(', ')}` } },
  text: {
    type: 'string',
    optional: true,
    isString: { errorMessage: 'text must be a string' },
    isLength: { options: { max: MAX_TEXT_LENGTH }, errorMessage: `text must be at most ${MAX_TEXT_LENGTH} characters` },
  },
  attachmentIds: { type: 'array', optional: true, isArray: { options: { max: 10 }, errorMessage: 'attachmentIds must be a list of at most 10 ids' } },
  'attachmentIds.*': { type: 'string', isString: { errorMessage: 'attachmentIds must be ids' }, isLength: { options: { min: 1, max: 64 }, errorMessage: 'attachmentIds must be ids' } },
  replyToId: mongoId('replyToId', true),
};

export const listMessagesSchema: Schema = {
  limit,
  cursor: cursor(),
  direction: { type: 'string', optional: true, isIn: { options: [['backward', 'forward']], errorMessage: 'direction must be backward or forward' } },
  search: {
    type: 'string',
    optional: true,
    isString: { errorMessage: 'search must be a string' },
    isLength: { options: { min: 1, max: 100 }, errorMessage: 'search must be 1 to 100 characters' },
  },
};

export const editSchema: Schema = {
  text: {
    type: 'string',
    isString: { errorMessage: 'text must be a string' },
    custom: { options: (value: string) => value.trim().length > 0, errorMessage: 'text must not be empty' },
    isLength: { options: { max: MAX_TEXT_LENGTH }, errorMessage: `text must be at most ${MAX_TEXT_LENGTH} characters` },
  },
};

const emoji = {
  type: 'string' as const,
  isString: { errorMessage: 'emoji must be a string' },
  isLength: { options: { min: 1, max: 16 }, errorMessage: 'emoji must be 1 to 16 characters' },
};
export const reactionBody: Schema = { emoji };
export const reactionQuery: Schema = { emoji };

const position = {
  seq: { type: 'integer' as const, optional: true, isInt: { options: { min: 1 }, errorMessage: 'seq must be a positive integer' }, toInt: true },
  messageId: mongoId('messageId', true),
};
export const readBody: Schema = position;

export const syncSchema: Schema = {
  since: cursor('since'),
  limit: { type: 'integer', optional: true, isInt: { options: { min: 1, max: 500 }, errorMessage: 'limit must be an integer from 1 to 500' }, toInt: true },
};

// Socket payloads: the same rules plus the conversation they address.
const conversationId = { conversationId: mongoId('conversationId') };
export const joinEvent: Schema = conversationId;
export const sendEvent: Schema = { ...conversationId, ...sendBody };
export const readEvent: Schema = { ...conversationId, ...position };
export const deliveredEvent: Schema = {
  ...conversationId,
  seq: { type: 'integer', isInt: { options: { min: 1 }, errorMessage: 'seq must be a positive integer' }, toInt: true },
};
export const typingEvent: Schema = conversationId;
