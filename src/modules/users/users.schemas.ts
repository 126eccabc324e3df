import { defineSchema } from '../../platform/http/validate';
import { NOTIFICATION_CATEGORIES, NOTIFICATION_CHANNELS } from './user.model';

const optionalText = (field: string, max: number) =>
  ({
    type: 'string',
    optional: { options: { values: 'null' as const } },
    isString: { errorMessage: `${field} must be a string`, bail: true },
    trim: true,
    isLength: { options: { max }, errorMessage: `${field} must be at most ${max} characters` },
  }) as const;

const isValidTimezone = (tz: string) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

export const updateMeSchema = defineSchema({
  name: {
    type: 'string',
    optional: true,
    isString: { errorMessage: 'name must be a string', bail: true },
    trim: true,
    isLength: { options: { min: 1, max: 100 }, errorMessage: 'name must be 1 to 100 characters' },
  },
  phone: {
    type: 'string',
    nullable: true,
    optional: true,
    custom: {
      options: (value: string | null) => {
        if (value === null) return true;
        if (!/^\+[1-9]\d{6,14}$/.test(value)) {
          throw new Error('phone must be in E.164 format, e.g. +919876543210, or null');
        }
        return true;
      },
    },
  },
  business: { type: 'object', optional: true },
  'business.companyName': optionalText('business.companyName', 200),
  'business.taxId': {
    ...optionalText('business.taxId', 20),
    matches: { options: /^[A-Za-z0-9]{5,20}$/, errorMessage: 'business.taxId must be 5 to 20 letters or digits (e.g. a GSTIN)' },
    toUpperCase: true,
  },
  'business.description': optionalText('business.description', 2000),
  'business.categories': {
    type: 'array',
    optional: true,
    isArray: { options: { max: 20 }, errorMessage: 'business.categories must be an array of at most 20 items', bail: true },
  },
  'business.categories.*': {
    type: 'string',
    optional: true,
    isString: { errorMessage: 'each category must be a string', bail: true },
    trim: true,
    isLength: { options: { min: 1, max: 60 }, errorMessage: 'each category must be 1 to 60 characters' },
  },
  'business.address': { type: 'object', optional: true },
  'business.address.line1': optionalText('business.address.line1', 200),
  'business.address.line2': optionalText('business.address.line2', 200),
  'business.address.city': optionalText('business.address.city', 100),
  'business.address.state': optionalText('business.address.state', 100),
  'business.address.postalCode': optionalText('business.address.postalCode', 20),
  'business.address.country': {
    type: 'string',
    optional: { options: { values: 'null' as const } },
    isISO31661Alpha2: { errorMessage: 'business.address.country must be an ISO 3166-1 alpha-2 code' },
    toUpperCase: true,
  },
});

const timeOfDay = (field: string) =>
  ({
    type: 'string',
    optional: true,
    matches: { options: /^([01]\d|2[0-3]):[0-5]\d$/, errorMessage: `${field} must be HH:mm (24-hour)` },
  }) as const;

export const updatePreferencesSchema = defineSchema({
  language: {
    type: 'string',
    optional: true,
    isString: { errorMessage: 'language must be a string', bail: true },
    matches: { options: /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, errorMessage: 'language must be a BCP 47 tag such as en or hi-IN' },
  },
  timezone: {
    type: 'string',
    optional: true,
    isString: { errorMessage: 'timezone must be a string', bail: true },
    custom: {
      options: (value: string) => {
        if (!isValidTimezone(value)) throw new Error('timezone must be an IANA zone such as Asia/Kolkata');
        return true;
      },
    },
  },
  notifications: {
    type: 'object',
    optional: true,
    custom: {
      options: (value: Record<string, unknown>) => {
        for (const [category, channels] of Object.entries(value)) {
          if (!(NOTIFICATION_CATEGORIES as readonly string[]).includes(category)) {
            throw new Error(`notifications category must be one of ${NOTIFICATION_CATEGORIES.join(', ')}`);
          }
          if (!Array.isArray(channels) || channels.some((c) => !(NOTIFICATION_CHANNELS as readonly string[]).includes(c as string))) {
            throw new Error(`notifications.${category} must be an array of ${NOTIFICATION_CHANNELS.join(', ')}`);
          }
        }
        return true;
      },
      // A sanitiser must never see a value its validator refused.
      bail: true,
    },
    customSanitizer: {
      options: (value: Record<string, string[]>) =>
        Object.fromEntries(Object.entries(value).map(([category, channels]) => [category, [...new Set(channels)]])),
    },
  },
  quietHours: { type: 'object', optional: true },
  'quietHours.enabled': { type: 'boolean', optional: true, isBoolean: { options: { strict: true }, errorMessage: 'quietHours.enabled must be a boolean' } },
  'quietHours.start': timeOfDay('quietHours.start'),
  'quietHours.end': timeOfDay('quietHours.end'),
});

export const userIdParamSchema = defineSchema({
  id: { in: ['params'], type: 'string', isMongoId: { errorMessage: 'id must be a valid id' } },
});

export const followPageSchema = defineSchema({
  id: { in: ['params'], type: 'string', isMongoId: { errorMessage: 'id must be a valid id' } },
  limit: {
    in: ['query'],
    type: 'integer',
    optional: true,
    isInt: { options: { min: 1, max: 100 }, errorMessage: 'limit must be an integer from 1 to 100', bail: true },
    toInt: true,
  },
  cursor: {
    in: ['query'],
    type: 'string',
    optional: true,
    isString: { errorMessage: 'cursor must be a string', bail: true },
    isLength: { options: { max: 100 }, errorMessage: 'cursor is not valid' },
  },
});
