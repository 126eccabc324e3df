import type { EnvReader, PlatformConfig } from '../../platform/config';

/** Finance's settings: provider keys (a provider without keys is switched off) and ledger rules. */
export interface FinanceConfig {
  /** Webhook secrets (STRIPE_WEBHOOK_SECRET, RAZORPAY_WEBHOOK_SECRET) belong to the webhook inbox, which verifies. */
  stripe: { secretKey: string | null; apiUrl: string | null };
  razorpay: { keyId: string | null; keySecret: string | null; apiUrl: string | null };
  payu: { merchantKey: string | null; merchantSalt: string | null; apiUrl: string; paymentUrl: string; returnUrl: string };
  /**
   * An open hold expires this many days after its order's delivery deadline (the order's
   * `delivery.date`, or acceptance + `leadTimeDays`), and is then voided by the sweep. A hold whose
   * order is not known (yet) expires this many days after it was placed.
   */
  holdGraceDays: number;
  /** New holds are refused on a line whose oldest unpaid charge is this many days past due. */
  overdueFreezeDays: number;
  /** How long a writer waits for an account's lock before 503 (hot accounts queue behind it). */
  lockWaitMs: number;
  lockLeaseMs: number;
  /** Repair (unfinished transfers) and expiry sweep period. */
  repairEveryMs: number;
  /** Reconciliation (balances recomputed from transfers) period. */
  reconcileEveryMs: number;
}

export function readFinanceConfig(read: EnvReader, platform?: PlatformConfig): FinanceConfig {
  return {
    stripe: {
      secretKey: read.optionalString('STRIPE_SECRET_KEY'),
      apiUrl: read.url('STRIPE_API_URL', ['http:', 'https:'], false),
    },
    razorpay: {
      keyId: read.optionalString('RAZORPAY_KEY_ID'),
      keySecret: read.optionalString('RAZORPAY_KEY_SECRET'),
      apiUrl: read.url('RAZORPAY_API_URL', ['http:', 'https:'], false),
    },
    payu: {
      merchantKey: read.optionalString('PAYU_MERCHANT_KEY'),
      merchantSalt: read.optionalString('PAYU_MERCHANT_SALT'),
      apiUrl: read.url('PAYU_API_URL', ['http:', 'https:'], false) ?? 'https://info.payu.in',
      paymentUrl: read.url('PAYU_PAYMENT_URL', ['http:', 'https:'], false) ?? 'https://secure.payu.in/_payment',
      // Where PayU sends the payer's browser back; the outcome itself comes from the webhook.
      returnUrl: read.url('PAYU_RETURN_URL', ['http:', 'https:'], false) ?? `${platform?.mail.appUrl ?? 'http://localhost:3000'}/payments/return`,
    },
    holdGraceDays: read.int('FINANCE_HOLD_GRACE_DAYS', 7, 1, 365),
    overdueFreezeDays: read.int('FINANCE_OVERDUE_FREEZE_DAYS', 30, 0, 3_650),
    lockWaitMs: read.int('FINANCE_LOCK_WAIT_MS', 30_000, 100, 600_000),
    lockLeaseMs: read.int('FINANCE_LOCK_LEASE_MS', 3_000, 100, 60_000),
    repairEveryMs: read.int('FINANCE_REPAIR_EVERY_MS', 60_000, 1_000, 86_400_000),
    reconcileEveryMs: read.int('FINANCE_RECONCILE_EVERY_MS', 3_600_000, 1_000, 86_400_000),
  };
}
