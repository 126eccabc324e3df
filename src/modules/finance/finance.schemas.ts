import { defineSchema } from '../../platform/http/validate';
import { PROVIDERS, TRANSFER_KINDS } from './finance.model';

const limit = {
  type: 'integer' as const,
  optional: true,
  isInt: { options: { min: 1, max: 100 }, errorMessage: 'limit must be an integer from 1 to 100' },
  toInt: true,
};
const cursor = {
  type: 'string' as const,
  optional: true,
  isLength: { options: { min: 1, max: 300 }, errorMessage: 'cursor must be 1 to 300 characters' },
};
const accountId = (field: string) => ({
  type: 'string' as const,
  matches: { options: /^(line|vendor|clearing):[A-Za-z0-9:]{1,120}$/, errorMessage: `${field} must be an account id` },
});
const isoTime = (field: string) => ({
  type: 'string' as const,
  isISO8601: { options: { strict: true }, errorMessage: `${field} must be an ISO 8601 time` },
});
const currency = { type: 'string' as const, matches: { options: /^[A-Z]{3}$/, errorMessage: 'currency must be an ISO 4217 code (3 capital letters)' } };
const mongoId = (field: string) => ({ type: 'string' as const, isMongoId: { errorMessage: `${field} must be an id` } });

export const idempotencyHeader = defineSchema({
  'idempotency-key': {
    type: 'string',
    in: ['headers'],
    matches: { options: /^[A-Za-z0-9_:-]{1,200}$/, errorMessage: 'Idempotency-Key must be 1 to 200 letters, digits, _ : or -' },
  },
});

export const listAccountsQuery = defineSchema({ limit, cursor });
export const accountParams = defineSchema({ id: { in: ['params'], ...accountId('id') } });
export const paymentParams = defineSchema({ id: { in: ['params'], ...mongoId('id') } });

export const transactionsQuery = defineSchema({
  account: { ...accountId('account'), optional: true },
  kind: { type: 'string', optional: true, oneOf: TRANSFER_KINDS },
  from: { ...isoTime('from'), optional: true },
  to: { ...isoTime('to'), optional: true },
  reference: { type: 'string', optional: true, matches: { options: /^[A-Za-z0-9:_-]{1,200}$/, errorMessage: 'reference must be an id' } },
  limit,
  cursor,
});

export const summaryQuery = defineSchema({ currency: { ...currency, optional: true } });

export const statementQuery = defineSchema({
  from: isoTime('from'),
  to: isoTime('to'),
  account: { ...accountId('account'), optional: true },
  format: { type: 'string', optional: true, oneOf: ['json', 'csv'] },
});

export const createPaymentBody = defineSchema({
  provider: { type: 'string', oneOf: PROVIDERS },
  orderId: { ...mongoId('orderId'), optional: true },
  vendorId: { ...mongoId('vendorId'), optional: true },
  currency: { ...currency, optional: true },
  amount: { type: 'integer', optional: true, isInt: { options: { min: 1, max: 1_000_000_000_000 }, errorMessage: 'amount must be a positive integer (minor units)' } },
});

export const createRefundBody = defineSchema({
  amount: { type: 'integer', optional: true, isInt: { options: { min: 1, max: 1_000_000_000_000 }, errorMessage: 'amount must be a positive integer (minor units)' } },
  reason: { type: 'string', optional: true, isLength: { options: { min: 1, max: 500 }, errorMessage: 'reason must be 1 to 500 characters' } },
});
