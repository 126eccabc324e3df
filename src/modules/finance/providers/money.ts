// ISO 4217 currencies without minor units; every other one this project takes has two.
const ZERO_DECIMAL = new Set(['JPY', 'KRW', 'VND', 'CLP', 'ISK', 'UGX', 'XAF', 'XOF', 'PYG', 'RWF']);

/** Minor units as the decimal text providers' form APIs take ("1250.00"). */
export function toMajorText(amount: number, currency: string): string {
  if (ZERO_DECIMAL.has(currency.toUpperCase())) return String(amount);
  const sign = amount < 0 ? '-' : '';
  const abs = Math.abs(amount);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** Decimal text back to minor units, exactly (no floating point); null when it is not an amount. */
export function fromMajorText(text: string, currency: string): number | null {
  const match = /^(\d{1,13})(?:\.(\d{1,2}))?$/.exec(text.trim());
  if (!match) return null;
  if (ZERO_DECIMAL.has(currency.toUpperCase())) return match[2] && Number(match[2]) !== 0 ? null : Number(match[1]);
  return Number(match[1]) * 100 + Number((match[2] ?? '0').padEnd(2, '0'));
}
