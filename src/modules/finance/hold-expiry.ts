const DAY_MS = 86_400_000;

/** An order's delivery terms as offers' OrderView carries them. */
export interface DeliveryTermsLike {
  date?: string | null;
  leadTimeDays?: number | null;
}

/**
 * The order's delivery deadline: the end (UTC) of its `delivery.date`, or acceptance +
 * `leadTimeDays`; when both are given, the later of the two (voiding a hold too early would leave
 * a delivered order without its charge, so the lenient reading wins). Null when neither is usable.
 */
export function deliveryDeadline(delivery: DeliveryTermsLike | null | undefined, acceptedAt: Date): Date | null {
  const candidates: number[] = [];
  const date = delivery?.date;
  if (typeof date === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(date)) {
    const start = Date.parse(`${date}T00:00:00.000Z`);
    if (Number.isFinite(start)) candidates.push(start + DAY_MS);
  }
  const lead = delivery?.leadTimeDays;
  if (typeof lead === 'number' && Number.isInteger(lead) && lead >= 0 && Number.isFinite(acceptedAt.getTime())) {
    candidates.push(acceptedAt.getTime() + lead * DAY_MS);
  }
  return candidates.length > 0 ? new Date(Math.max(...candidates)) : null;
}

/** When an open hold is voided: the deadline + the grace, or (no known deadline) placement + the grace. */
export function holdExpiresAt(input: { deadlineAt: Date | null; placedAt: Date; graceDays: number }): Date {
  const from = input.deadlineAt ?? input.placedAt;
  return new Date(from.getTime() + input.graceDays * DAY_MS);
}
