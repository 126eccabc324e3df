import type { Model } from 'mongoose';
import type { OfferDoc } from './offers.model';

export interface OfferFigures {
  offersMade: number;
  offersReceived: number;
  accepted: number;
  /** Accepted ÷ offers that ended (accepted, rejected, withdrawn or expired); null when none ended. */
  conversionRate: number | null;
  /** Milliseconds from creation to acceptance, median over accepted offers; null when none. */
  medianTimeToAcceptMs: number | null;
  /** Mean of (first total − final total) ÷ first total over accepted offers (0.05 = 5% off); null when none. */
  averageDiscount: number | null;
  /** Mean number of rounds of accepted offers; null when none. */
  roundsPerDeal: number | null;
}

export interface OfferAnalytics extends OfferFigures {
  byMonth: Array<{ month: string } & OfferFigures>;
}

const ENDED = new Set(['accepted', 'rejected', 'withdrawn', 'expired']);
// One user's negotiations; beyond this a report belongs in the analytics store, not a request.
const MAX_OFFERS = 20_000;
const round4 = (value: number) => Math.round(value * 10_000) / 10_000;

function median(values: number[]): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const mean = (values: number[]) => (values.length ? values.reduce((sum, v) => sum + v, 0) / values.length : null);

type Row = Pick<OfferDoc, 'createdBy' | 'status' | 'live' | 'expiresAt' | 'openedAt' | 'acceptedAt' | 'firstTotal' | 'total' | 'roundCount'>;

export function figuresOf(rows: Row[], userId: string, now: Date): OfferFigures {
  const statusOf = (row: Row) => (row.live && new Date(row.expiresAt).getTime() <= now.getTime() ? 'expired' : row.status);
  const accepted = rows.filter((row) => statusOf(row) === 'accepted');
  const ended = rows.filter((row) => ENDED.has(statusOf(row)));
  const times = accepted.filter((row) => row.acceptedAt).map((row) => new Date(row.acceptedAt as Date).getTime() - new Date(row.openedAt).getTime());
  const discounts = accepted.filter((row) => row.firstTotal.amount > 0).map((row) => (row.firstTotal.amount - row.total.amount) / row.firstTotal.amount);
  const rounds = mean(accepted.map((row) => row.roundCount));
  const discount = mean(discounts);
  return {
    offersMade: rows.filter((row) => row.createdBy === userId).length,
    offersReceived: rows.filter((row) => row.createdBy !== userId).length,
    accepted: accepted.length,
    conversionRate: ended.length ? round4(accepted.length / ended.length) : null,
    medianTimeToAcceptMs: median(times),
    averageDiscount: discount === null ? null : round4(discount),
    roundsPerDeal: rounds === null ? null : round4(rounds),
  };
}

/** The caller's negotiation figures, overall and by month the offer was opened (UTC), from the offers they are a party to. */
export function createOfferAnalytics(deps: { Offer: Model<OfferDoc>; clock: () => Date }) {
  return {
    async forUser(userId: string, range: { from?: string; to?: string }): Promise<OfferAnalytics> {
      const filter: Record<string, unknown> = { parties: userId };
      const created: Record<string, Date> = {};
      if (range.from) created.$gte = new Date(range.from);
      if (range.to) created.$lt = new Date(range.to);
      if (Object.keys(created).length) filter.openedAt = created;
      const rows = await deps.Offer.find(filter, { createdBy: 1, status: 1, live: 1, expiresAt: 1, openedAt: 1, acceptedAt: 1, firstTotal: 1, total: 1, roundCount: 1 })
        .sort({ _id: -1 })
        .limit(MAX_OFFERS)
        .lean<Row[]>();
      const now = deps.clock();
      const months = new Map<string, Row[]>();
      for (const row of rows) {
        const month = new Date(row.openedAt).toISOString().slice(0, 7);
        months.set(month, [...(months.get(month) ?? []), row]);
      }
      return {
        ...figuresOf(rows, userId, now),
        byMonth: [...months.keys()].sort().map((month) => ({ month, ...figuresOf(months.get(month) ?? [], userId, now) })),
      };
    },
  };
}
