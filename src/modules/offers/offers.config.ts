import type { EnvReader } from '../../platform/config';

/** Offers' and orders' settings, read from OFFER_* variables. */
export interface OffersConfig {
  /** An offer (or a counter) may expire at most this far ahead. */
  maxExpiryHours: number;
  /** Expiry of an offer created without `expiresAt`. */
  defaultExpiryHours: number;
  /** ISO 4217 codes an offer may be priced in. */
  supportedCurrencies: string[];
  /** How often the sweep marks offers past their expiry as expired (and tells both parties). */
  expirySweepMs: number;
  /** Lease of the per-offer and per-order lock that serialises transitions. */
  lockLeaseMs: number;
  /** Rounds one negotiation may have; a counter beyond it is refused. */
  maxRounds: number;
}

const CURRENCY = /^[A-Z]{3}$/;

export function readOffersConfig(read: EnvReader): OffersConfig {
  const listed = read.list('OFFER_SUPPORTED_CURRENCIES').map((code) => code.toUpperCase());
  const supportedCurrencies = listed.length ? listed : ['INR', 'USD', 'EUR', 'AED', 'GBP'];
  for (const code of supportedCurrencies) {
    if (!CURRENCY.test(code)) read.problems.push(`OFFER_SUPPORTED_CURRENCIES holds "${code}", which is not an ISO 4217 code`);
  }
  const config: OffersConfig = {
    maxExpiryHours: read.int('OFFER_MAX_EXPIRY_HOURS', 30 * 24, 1, 365 * 24),
    defaultExpiryHours: read.int('OFFER_DEFAULT_EXPIRY_HOURS', 72, 1, 365 * 24),
    supportedCurrencies,
    expirySweepMs: read.int('OFFER_EXPIRY_SWEEP_MS', 5_000, 100, 3_600_000),
    lockLeaseMs: read.int('OFFER_LOCK_LEASE_MS', 3_000, 100, 60_000),
    maxRounds: read.int('OFFER_MAX_ROUNDS', 50, 2, 500),
  };
  if (config.defaultExpiryHours > config.maxExpiryHours) {
    read.problems.push('OFFER_DEFAULT_EXPIRY_HOURS must not exceed OFFER_MAX_EXPIRY_HOURS');
  }
  return config;
}
