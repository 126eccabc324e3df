import { defineSchema } from '../../platform/http/validate';
import { ANALYTICS_EVENTS } from '../analytics';
import { SYSTEM_EVENT_KINDS } from './admin.model';

const ROLES = ['user', 'vendor', 'admin', 'super_admin'] as const;
const STATUSES = ['active', 'suspended', 'deleted'] as const;

const limit = { type: 'integer', optional: true, isInt: { options: { min: 1, max: 100 }, errorMessage: 'limit must be an integer from 1 to 100' }, toInt: true } as const;
const cursor = { type: 'string', optional: true, isLength: { options: { min: 1, max: 200 }, errorMessage: 'cursor must be 1 to 200 characters' } } as const;
const idParam = { type: 'string', in: ['params'], isMongoId: { errorMessage: 'id must be an id' } } as const;
const anyIdParam = { type: 'string', in: ['params'], isLength: { options: { min: 1, max: 100 }, errorMessage: 'id must be 1 to 100 characters' }, matches: { options: /^[A-Za-z0-9_:-]+$/, errorMessage: 'id must be letters, digits, _ : or -' } } as const;
const time = (field: string) => ({ type: 'string', optional: true, isISO8601: { options: { strict: true }, errorMessage: `${field} must be an ISO 8601 time` } }) as const;
const reason = { type: 'string', trim: true, isLength: { options: { min: 3, max: 500 }, errorMessage: 'reason must be 3 to 500 characters' } } as const;
const shortText = (field: string, max = 100) => ({ type: 'string', optional: true, isLength: { options: { min: 1, max }, errorMessage: `${field} must be 1 to ${max} characters` } }) as const;

export const periodQuery = defineSchema({ from: time('from'), to: time('to') });

export const userSearchQuery = defineSchema({
  q: { type: 'string', optional: true, trim: true, isLength: { options: { max: 100 }, errorMessage: 'q must be at most 100 characters' } },
  role: { type: 'string', optional: true, oneOf: ROLES },
  status: { type: 'string', optional: true, oneOf: STATUSES },
  limit,
  cursor,
});

export const userIdParams = defineSchema({ id: idParam });
export const reasonBody = defineSchema({ id: idParam, reason });
export const reasonOnlyBody = defineSchema({ reason });
export const roleBody = defineSchema({ id: idParam, role: { type: 'string', oneOf: ROLES }, reason });

export const auditQuery = defineSchema({
  actorId: shortText('actorId'),
  targetId: shortText('targetId'),
  targetType: shortText('targetType', 50),
  action: shortText('action', 50),
  from: time('from'),
  to: time('to'),
  limit,
  cursor,
});
export const auditExportQuery = defineSchema({
  actorId: shortText('actorId'),
  targetId: shortText('targetId'),
  targetType: shortText('targetType', 50),
  action: shortText('action', 50),
  from: time('from'),
  to: time('to'),
});

export const systemEventsQuery = defineSchema({ kind: { type: 'string', optional: true, oneOf: SYSTEM_EVENT_KINDS }, limit, cursor });
export const failedJobsQuery = defineSchema({ queue: shortText('queue'), limit });
export const failedJobParams = defineSchema({
  id: { type: 'string', in: ['params'], isLength: { options: { min: 4, max: 800 }, errorMessage: 'id must be 4 to 800 characters' }, matches: { options: /^[A-Za-z0-9_-]+$/, errorMessage: 'id must be a failed job id (base64url)' } },
});

export const TIMESERIES_METRICS = ['active_users', ...ANALYTICS_EVENTS] as const;
export const timeseriesQuery = defineSchema({
  metric: { type: 'string', oneOf: TIMESERIES_METRICS },
  interval: { type: 'string', optional: true, oneOf: ['day', 'week', 'month'] as const },
  from: time('from'),
  to: time('to'),
});
export const cohortsQuery = defineSchema({
  from: time('from'),
  to: time('to'),
  weeks: { type: 'integer', optional: true, isInt: { options: { min: 1, max: 52 }, errorMessage: 'weeks must be an integer from 1 to 52' }, toInt: true },
});
export const topQuery = defineSchema({ from: time('from'), to: time('to'), limit });

// ---- oversight ports -------------------------------------------------------------------------
const ref = (field: string) => ({ type: 'string', optional: true, isMongoId: { errorMessage: `${field} must be an id` } }) as const;
export const offersQuery = defineSchema({ status: shortText('status', 40), buyerId: ref('buyerId'), vendorId: ref('vendorId'), conversationId: ref('conversationId'), limit, cursor });
export const ordersQuery = defineSchema({ status: shortText('status', 40), buyerId: ref('buyerId'), vendorId: ref('vendorId'), limit, cursor });
export const webhookEventsQuery = defineSchema({ provider: shortText('provider', 40), type: shortText('type'), outcome: shortText('outcome', 40), from: time('from'), to: time('to'), limit, cursor });
export const anyIdParams = defineSchema({ id: anyIdParam });
export const anyIdReasonBody = defineSchema({ id: anyIdParam, reason });
const currency = { type: 'string', matches: { options: /^[A-Z]{3}$/, errorMessage: 'currency must be an ISO 4217 code' } } as const;
export const creditLimitBody = defineSchema({
  buyerId: { type: 'string', isMongoId: { errorMessage: 'buyerId must be an id' } },
  vendorId: { type: 'string', isMongoId: { errorMessage: 'vendorId must be an id' } },
  currency,
  limit: { type: 'integer', isInt: { options: { min: 0, max: 1_000_000_000_000 }, errorMessage: 'limit must be a non-negative integer (minor units)' } },
  creditDays: { type: 'integer', optional: true, isInt: { options: { min: 0, max: 365 }, errorMessage: 'creditDays must be an integer from 0 to 365' } },
  reason,
});
const financeList = <S extends readonly string[]>(statuses: S) => ({
  status: { type: 'string', optional: true, oneOf: statuses },
  provider: { type: 'string', optional: true, oneOf: ['stripe', 'razorpay', 'payu'] as const },
  userId: ref('userId'),
  from: time('from'),
  to: time('to'),
  limit,
  cursor,
}) as const;
export const financePaymentsQuery = defineSchema(financeList(['created', 'processing', 'succeeded', 'failed', 'cancelled', 'refunded', 'disputed'] as const));
export const financeRefundsQuery = defineSchema(financeList(['pending', 'succeeded', 'failed'] as const));
export const financeDisputesQuery = defineSchema(financeList(['open', 'won', 'lost'] as const));
export const campaignBody = defineSchema({
  title: { type: 'string', trim: true, isLength: { options: { min: 1, max: 120 }, errorMessage: 'title must be 1 to 120 characters' } },
  body: { type: 'string', trim: true, isLength: { options: { min: 1, max: 2_000 }, errorMessage: 'body must be 1 to 2000 characters' } },
  data: { type: 'object', optional: true, custom: { options: (value: Record<string, unknown>) => Object.keys(value).length <= 20 && Object.values(value).every((v) => typeof v === 'string' && v.length <= 500), errorMessage: 'data must map at most 20 keys to strings of at most 500 characters' } },
  segment: { type: 'object', optional: true },
  'segment.roles': { type: 'array', optional: true, isArray: { options: { max: 4 }, errorMessage: 'segment.roles must list at most 4 roles' } },
  'segment.roles.*': { type: 'string', oneOf: ROLES },
  'segment.countries': { type: 'array', optional: true, isArray: { options: { max: 50 }, errorMessage: 'segment.countries must list at most 50 countries' } },
  'segment.countries.*': { type: 'string', matches: { options: /^[A-Z]{2}$/, errorMessage: 'countries must be ISO 3166 alpha-2 codes' } },
  'segment.activeWithinDays': { type: 'integer', optional: true, nullable: true, isInt: { options: { min: 1, max: 3_650 }, errorMessage: 'segment.activeWithinDays must be an integer from 1 to 3650' } },
  scheduledAt: time('scheduledAt'),
});
