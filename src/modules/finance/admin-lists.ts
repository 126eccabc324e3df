import type { FilterQuery, Model } from 'mongoose';
import { DEFAULT_PAGE_LIMIT, decodeCursor, encodeCursor, isNonNegativeInt } from '../../platform/pagination';
import { toDisputeView, toPaymentView, toRefundView } from './finance.mapper';
import type { DisputeDoc, FinanceModels, PaymentDoc, RefundDoc } from './finance.model';

/** The admin lists' filters: each is an equality on an indexed field, plus a [from, to) time range. */
export interface FinanceAdminListQuery {
  status?: string;
  provider?: string;
  /** Either party: the payer or the vendor. */
  userId?: string;
  /** ISO 8601; payments and refunds by creation, disputes by opening. */
  from?: string;
  to?: string;
  limit?: number;
  cursor?: string;
}

export interface FinanceAdminPage<T> {
  data: T[];
  page: { nextCursor: string | null; limit: number };
}

const isCursor = (v: Record<string, unknown>): v is { t: number; id: string } => isNonNegativeInt(v.t) && typeof v.id === 'string' && v.id.length > 0 && v.id.length <= 200;

/**
 * Newest first, keyed on (time, _id) so a page boundary never skips or repeats a row; every
 * equality filter leads an index whose second key is the time ({status|provider|partyIds, time}).
 */
async function page<D extends { _id: string }, V>(model: Model<D>, timeField: 'createdAt' | 'openedAt', query: FinanceAdminListQuery, view: (doc: D) => V): Promise<FinanceAdminPage<V>> {
  const limit = query.limit ?? DEFAULT_PAGE_LIMIT;
  const after = decodeCursor(query.cursor, isCursor);
  const filter: Record<string, unknown> = {};
  if (query.status) filter.status = query.status;
  if (query.provider) filter.provider = query.provider;
  if (query.userId) filter.partyIds = query.userId;
  const range: Record<string, Date> = {};
  if (query.from) range.$gte = new Date(query.from);
  if (query.to) range.$lt = new Date(query.to);
  if (Object.keys(range).length > 0) filter[timeField] = range;
  if (after) {
    const at = new Date(after.t);
    filter.$and = [{ $or: [{ [timeField]: { $lt: at } }, { [timeField]: at, _id: { $lt: after.id } }] }];
  }
  const rows = await model
    .find(filter as FilterQuery<D>)
    .sort({ [timeField]: -1, _id: -1 })
    .limit(limit + 1)
    .lean<D[]>();
  const shown = rows.slice(0, limit);
  const last = shown[shown.length - 1] as (D & Record<string, unknown>) | undefined;
  const nextCursor = rows.length > limit && last ? encodeCursor({ t: new Date(last[timeField] as Date).getTime(), id: last._id }) : null;
  return { data: shown.map(view), page: { nextCursor, limit } };
}

export function createAdminLists(models: FinanceModels) {
  return {
    payments: (query: FinanceAdminListQuery) => page<PaymentDoc, ReturnType<typeof toPaymentView>>(models.Payment, 'createdAt', query, (p) => toPaymentView(p)),
    refunds: (query: FinanceAdminListQuery) => page<RefundDoc, ReturnType<typeof toRefundView>>(models.Refund, 'createdAt', query, toRefundView),
    disputes: (query: FinanceAdminListQuery) => page<DisputeDoc, ReturnType<typeof toDisputeView>>(models.Dispute, 'openedAt', query, toDisputeView),
  };
}
