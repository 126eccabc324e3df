import type { TransferDoc } from './finance.model';

const DAY_MS = 86_400_000;

export interface RiskInput {
  lineId: string;
  limit: number;
  /** Posted debits minus posted credits of the line. */
  outstanding: number;
  held: number;
  createdAt: Date;
  /** Every transfer that touches the line. */
  transfers: TransferDoc[];
  disputes: number;
  now: Date;
  overdueFreezeDays: number;
}

export interface RiskFactor {
  name: 'utilisation' | 'onTimeRatio' | 'daysPastDue' | 'disputes' | 'accountAgeDays';
  value: number;
  /** Points taken off the score of 100 by this factor. */
  penalty: number;
}

export interface RiskAssessment {
  score: number;
  level: 'low' | 'medium' | 'high';
  factors: RiskFactor[];
  overdue: number;
  daysPastDue: number;
  suggestedLimit: number;
  /** New holds are refused: the oldest unpaid charge is more than overdueFreezeDays past due. */
  holdsFrozen: boolean;
}

interface Due {
  amount: number;
  dueAt: Date;
  left: number;
  coveredAt: Date | null;
}

/**
 * What is owed and when it fell due: posted debits of the line (charges fall due `creditDays`
 * after delivery, others at once) are paid oldest-due first by its posted credits in time order.
 */
export function ageDebts(lineId: string, transfers: TransferDoc[], now: Date): { overdue: number; daysPastDue: number; dues: Due[] } {
  const dues: Due[] = [];
  const credits: Array<{ amount: number; at: Date }> = [];
  for (const t of transfers) {
    if (t.pending || t.resolution === 'void') continue;
    if (t.debitAccountId === lineId) dues.push({ amount: t.amount, dueAt: new Date(t.dueAt ?? t.at), left: t.amount, coveredAt: null });
    else if (t.creditAccountId === lineId) credits.push({ amount: t.amount, at: new Date(t.at) });
  }
  dues.sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime());
  credits.sort((a, b) => a.at.getTime() - b.at.getTime());
  let i = 0;
  for (const credit of credits) {
    let left = credit.amount;
    for (let due = dues[i]; left > 0 && due; due = dues[i]) {
      const take = Math.min(left, due.left);
      due.left -= take;
      left -= take;
      if (due.left > 0) break;
      due.coveredAt = credit.at;
      i += 1;
    }
  }
  let overdue = 0;
  let oldest: Date | null = null;
  for (const due of dues) {
    if (due.left > 0 && due.dueAt.getTime() <= now.getTime()) {
      overdue += due.left;
      if (!oldest || due.dueAt < oldest) oldest = due.dueAt;
    }
  }
  const daysPastDue = oldest ? Math.floor((now.getTime() - oldest.getTime()) / DAY_MS) : 0;
  return { overdue, daysPastDue, dues };
}

/**
 * The rules (docs/architecture.md, "Finance: risk"): a score of 100 less a penalty per factor —
 * utilisation over 75% (10) or 90% (20); on-time ratio below 90% (1 point per percent, up to 30);
 * 2 points a day past due (up to 40); 10 per dispute (up to 30); an account younger than 30 days (10).
 * Level: 80+ low, 50+ medium, else high. Suggested limit: low risk using over 75% of its limit
 * with every due charge paid on time → 125% of the limit; high risk → the larger of what is
 * outstanding and half the limit; frozen for holds → what is outstanding; otherwise the limit.
 */
export function assessRisk(input: RiskInput): RiskAssessment {
  const { overdue, daysPastDue, dues } = ageDebts(input.lineId, input.transfers, input.now);
  const used = Math.max(0, input.outstanding) + input.held;
  const utilisation = input.limit > 0 ? used / input.limit : used > 0 ? 1 : 0;
  const fallenDue = dues.filter((d) => d.dueAt.getTime() <= input.now.getTime());
  const onTime = fallenDue.filter((d) => d.coveredAt !== null && d.coveredAt.getTime() <= d.dueAt.getTime()).length;
  const onTimeRatio = fallenDue.length === 0 ? 1 : onTime / fallenDue.length;
  const ageDays = Math.max(0, Math.floor((input.now.getTime() - input.createdAt.getTime()) / DAY_MS));
  const factors: RiskFactor[] = [
    { name: 'utilisation', value: round(utilisation), penalty: utilisation > 0.9 ? 20 : utilisation > 0.75 ? 10 : 0 },
    { name: 'onTimeRatio', value: round(onTimeRatio), penalty: onTimeRatio < 0.9 ? Math.min(30, Math.round((0.9 - onTimeRatio) * 100)) : 0 },
    { name: 'daysPastDue', value: daysPastDue, penalty: Math.min(40, daysPastDue * 2) },
    { name: 'disputes', value: input.disputes, penalty: Math.min(30, input.disputes * 10) },
    { name: 'accountAgeDays', value: ageDays, penalty: ageDays < 30 ? 10 : 0 },
  ];
  const score = Math.max(0, 100 - factors.reduce((sum, f) => sum + f.penalty, 0));
  const level = score >= 80 ? 'low' : score >= 50 ? 'medium' : 'high';
  const holdsFrozen = daysPastDue > input.overdueFreezeDays;
  const outstanding = Math.max(0, input.outstanding);
  let suggestedLimit = input.limit;
  if (holdsFrozen) suggestedLimit = outstanding;
  else if (level === 'high') suggestedLimit = Math.max(outstanding, Math.floor(input.limit / 2));
  else if (level === 'low' && utilisation > 0.75 && onTimeRatio === 1) suggestedLimit = Math.floor((input.limit * 5) / 4);
  return { score, level, factors, overdue, daysPastDue, suggestedLimit, holdsFrozen };
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
