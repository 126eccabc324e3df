import { defineSchema } from '../../platform/http/validate';
import { WEBHOOK_PROVIDERS, WEBHOOK_STATUSES } from './webhooks.model';

/**
 * For the admin module's routes over WebhooksAdmin (GET /api/admin/webhooks, GET and POST
 * …/:id[/replay]); exported from index.ts so the rules live beside the data they guard.
 */
export const webhookEventListSchema = defineSchema({
  provider: { type: 'string', in: ['query'], optional: true, oneOf: WEBHOOK_PROVIDERS },
  type: { type: 'string', in: ['query'], optional: true, isLength: { options: { min: 1, max: 200 } } },
  outcome: { type: 'string', in: ['query'], optional: true, oneOf: WEBHOOK_STATUSES },
  from: { type: 'string', in: ['query'], optional: true, isISO8601: { options: { strict: true } } },
  to: { type: 'string', in: ['query'], optional: true, isISO8601: { options: { strict: true } } },
  limit: { type: 'integer', in: ['query'], optional: true, isInt: { options: { min: 1, max: 100 } }, toInt: true },
  cursor: { type: 'string', in: ['query'], optional: true, isLength: { options: { min: 1, max: 500 } } },
});

export const webhookEventIdParam = defineSchema({
  id: { type: 'string', in: ['params'], isMongoId: true },
});
