import { defineSchema } from '../../platform/http/validate';
import { DEVICE_PLATFORMS } from './notifications.model';
import { CHANNELS, NOTIFICATION_CATEGORIES } from './notifications.types';

const id = (field: string) => ({ in: ['params'], type: 'string', isMongoId: { errorMessage: `${field} must be an id` } }) as const;

export const idParam = defineSchema({ id: id('id') });

export const listSchema = defineSchema({
  limit: { in: ['query'], type: 'integer', optional: true, isInt: { options: { min: 1, max: 100 }, errorMessage: 'limit must be an integer from 1 to 100' }, toInt: true },
  cursor: { in: ['query'], type: 'string', optional: true, isLength: { options: { max: 200 }, errorMessage: 'cursor is not valid' } },
  read: { in: ['query'], type: 'boolean', optional: true, toBoolean: true },
  category: { in: ['query'], type: 'string', optional: true, oneOf: NOTIFICATION_CATEGORIES },
});

export const readAllSchema = defineSchema({
  category: { type: 'string', optional: true, oneOf: NOTIFICATION_CATEGORIES },
});

export const bulkSchema = defineSchema({
  action: { type: 'string', oneOf: ['read', 'delete'] },
  ids: { type: 'array', isArray: { options: { min: 1, max: 100 }, errorMessage: 'ids must be a list of 1 to 100 ids' } },
  'ids.*': { type: 'string', isLength: { options: { min: 1, max: 64 }, errorMessage: 'each id must be 1 to 64 characters' } },
});

export const actionParams = defineSchema({
  id: id('id'),
  actionId: { in: ['params'], type: 'string', matches: { options: /^[A-Za-z0-9_-]{1,40}$/, errorMessage: 'actionId must be 1 to 40 letters, digits, _ or -' } },
});

export const deviceSchema = defineSchema({
  token: { type: 'string', isLength: { options: { min: 16, max: 4096 }, errorMessage: 'token must be 16 to 4096 characters' }, matches: { options: /^[\x21-\x7e]+$/, errorMessage: 'token must be printable ASCII' } },
  platform: { type: 'string', oneOf: DEVICE_PLATFORMS },
  appVersion: { type: 'string', optional: true, isLength: { options: { min: 1, max: 40 }, errorMessage: 'appVersion must be 1 to 40 characters' } },
});

export const deviceTokenParam = defineSchema({
  token: { in: ['params'], type: 'string', isLength: { options: { min: 1, max: 4096 }, errorMessage: 'token must be 1 to 4096 characters' } },
});

const isTimezone = (value: string) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return true;
  } catch {
    return false;
  }
};

const timeOfDay = (field: string) =>
  ({ type: 'string', optional: true, matches: { options: /^([01]\d|2[0-3]):[0-5]\d$/, errorMessage: `${field} must be HH:mm (24-hour)` } }) as const;

const channels = (category: string) =>
  ({ type: 'array', optional: true, isArray: { options: { max: CHANNELS.length }, errorMessage: `categories.${category} must be a list of channels` } }) as const;
const channel = { type: 'string', oneOf: CHANNELS } as const;

export const preferencesSchema = defineSchema({
  categories: {
    type: 'object',
    optional: true,
    custom: {
      options: (value: Record<string, unknown>) => {
        const unknown = Object.keys(value).find((k) => !(NOTIFICATION_CATEGORIES as readonly string[]).includes(k));
        if (unknown) throw new Error(`categories may only name ${NOTIFICATION_CATEGORIES.join(', ')}`);
        return true;
      },
      bail: true,
    },
  },
  'categories.chat': channels('chat'),
  'categories.chat.*': channel,
  'categories.offers': channels('offers'),
  'categories.offers.*': channel,
  'categories.orders': channels('orders'),
  'categories.orders.*': channel,
  'categories.finance': channels('finance'),
  'categories.finance.*': channel,
  'categories.system': channels('system'),
  'categories.system.*': channel,
  'categories.marketing': channels('marketing'),
  'categories.marketing.*': channel,
  quietHours: { type: 'object', optional: true },
  'quietHours.enabled': { type: 'boolean', optional: true },
  'quietHours.start': timeOfDay('quietHours.start'),
  'quietHours.end': timeOfDay('quietHours.end'),
  'quietHours.timezone': {
    type: 'string',
    optional: true,
    custom: {
      options: (value: string) => {
        if (!isTimezone(value)) throw new Error('quietHours.timezone must be an IANA zone such as Asia/Kolkata');
        return true;
      },
    },
  },
  digest: { type: 'boolean', optional: true },
});

