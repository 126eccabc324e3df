import { defineSchema } from '../../platform/http/validate';

export const MAX_TEXT_LENGTH = 4_000;
const CLIENT_TYPES = ['text', 'image', 'document', 'voice'] as const;

const mongoId = (field: string) => ({
  type: 'string' as const,
  isMongoId: { errorMessage: `${field} must be an id` },
});
const optionalMongoId = (field: string) => ({ ...mongoId(field), optional: true as const });

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
export const conversationIdParam = defineSchema({ id: param('id') });
export const messageIdParam = defineSchema({ id: param('id') });
export const memberParams = defineSchema({ id: param('id'), userId: param('userId') });

export const createConversationSchema = defineSchema({
  type: { type: 'string', oneOf: ['direct', 'group'] },
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
});

export const listSchema = defineSchema({ limit, cursor: cursor() });

export const muteSchema = defineSchema({ muted: { type: 'boolean', isBoolean: { options: { strict: true }, errorMessage: 'muted must be true or false' } } });

export const addMembersSchema = defineSchema({
  userIds: { type: 'array', isArray: { options: { min: 1, max: 100 }, errorMessage: 'userIds must be a list of 1 to 100 user ids' } },
  'userIds.*': mongoId('userIds'),
});
export const roleSchema = defineSchema({ role: { type: 'string', oneOf: ['admin', 'member'] } });

export const sendBody = defineSchema({
  clientMessageId: {
    type: 'string',
    isString: { errorMessage: 'clientMessageId must be a string' },
    matches: { options: /^[A-Za-z0-9_:-]{1,100}$/, errorMessage: 'clientMessageId must be 1 to 100 letters, digits, _ : or -' },
  },
  type: { type: 'string', optional: true, oneOf: CLIENT_TYPES },
  text: {
    type: 'string',
    optional: true,
    isString: { errorMessage: 'text must be a string' },
    isLength: { options: { max: MAX_TEXT_LENGTH }, errorMessage: `text must be at most ${MAX_TEXT_LENGTH} characters` },
  },
  attachmentIds: { type: 'array', optional: true, isArray: { options: { max: 10 }, errorMessage: 'attachmentIds must be a list of at most 10 ids' } },
  'attachmentIds.*': { type: 'string', isString: { errorMessage: 'attachmentIds must be ids' }, isLength: { options: { min: 1, max: 64 }, errorMessage: 'attachmentIds must be ids' } },
  replyToId: optionalMongoId('replyToId'),
});

export const listMessagesSchema = defineSchema({
  limit,
  cursor: cursor(),
  direction: { type: 'string', optional: true, oneOf: ['backward', 'forward'] },
  search: {
    type: 'string',
    optional: true,
    isString: { errorMessage: 'search must be a string' },
    isLength: { options: { min: 1, max: 100 }, errorMessage: 'search must be 1 to 100 characters' },
  },
});

export const editSchema = defineSchema({
  text: {
    type: 'string',
    isString: { errorMessage: 'text must be a string' },
    custom: { options: (value: string) => value.trim().length > 0, errorMessage: 'text must not be empty' },
    isLength: { options: { max: MAX_TEXT_LENGTH }, errorMessage: `text must be at most ${MAX_TEXT_LENGTH} characters` },
  },
});

const emoji = {
  type: 'string' as const,
  isString: { errorMessage: 'emoji must be a string' },
  isLength: { options: { min: 1, max: 16 }, errorMessage: 'emoji must be 1 to 16 characters' },
};
export const reactionBody = defineSchema({ emoji });
export const reactionQuery = defineSchema({ emoji });

const position = {
  seq: { type: 'integer' as const, optional: true, isInt: { options: { min: 1 }, errorMessage: 'seq must be a positive integer' }, toInt: true },
  messageId: optionalMongoId('messageId'),
};
export const readBody = defineSchema(position);

export const syncSchema = defineSchema({
  since: cursor('since'),
  limit: { type: 'integer', optional: true, isInt: { options: { min: 1, max: 500 }, errorMessage: 'limit must be an integer from 1 to 500' }, toInt: true },
});

// Socket payloads: the same rules plus the conversation they address.
const conversationId = { conversationId: mongoId('conversationId') };
export const joinEvent = defineSchema(conversationId);
export const sendEvent = defineSchema({ ...conversationId, ...sendBody });
export const readEvent = defineSchema({ ...conversationId, ...position });
export const deliveredEvent = defineSchema({
  ...conversationId,
  seq: { type: 'integer', isInt: { options: { min: 1 }, errorMessage: 'seq must be a positive integer' }, toInt: true },
});
export const typingEvent = defineSchema(conversationId);
