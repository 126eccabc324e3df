import { stringify } from 'csv-stringify/sync';

/** Text a spreadsheet would run as a formula (OWASP CSV injection): =, +, -, @, tab or CR first. */
const FORMULA_LEAD = /^[=+\-@\t\r]/;

/**
 * RFC 4180 CSV through csv-stringify: every field quoted (empty ones too), quotes doubled, CRLF
 * record ends. Text that a spreadsheet would run as a formula is prefixed with an apostrophe
 * (OWASP); numbers and booleans are written as they are (`true`, not csv-stringify's `1`).
 */
export function toCsv(header: string[], rows: Array<Array<string | number | boolean | null>>): string {
  return stringify([header, ...rows], {
    quoted: true,
    quoted_empty: true,
    record_delimiter: 'windows',
    cast: {
      string: (value) => (FORMULA_LEAD.test(value) ? `'${value}` : value),
      boolean: (value) => String(value),
      number: (value) => String(value),
    },
  });
}
