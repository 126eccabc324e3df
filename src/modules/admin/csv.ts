import { stringify } from 'csv-stringify/sync';

/** Text a spreadsheet would run as a formula (OWASP CSV injection): =, +, -, @, tab or CR first. */
const FORMULA_LEAD = /^[=+\-@\t\r]/;

/** The text of one value: dates as ISO 8601, objects as JSON, null and undefined empty; formula-leading text defused. */
function cellText(value: unknown): string {
  let text: string;
  if (value === null || value === undefined) text = '';
  else if (value instanceof Date) text = value.toISOString();
  else if (typeof value === 'object') text = JSON.stringify(value);
  else text = String(value);
  return FORMULA_LEAD.test(text) ? `'${text}` : text;
}

/**
 * RFC 4180 CSV through csv-stringify: fields separated by commas, records end in CRLF, a field
 * holding a comma, a double quote, CR or LF is quoted with each quote doubled (csv-stringify alone
 * quotes only the whole record delimiter, so a bare CR or LF is matched explicitly). A field that
 * a spreadsheet would run as a formula is prefixed with a single quote (OWASP CSV injection),
 * since admins open these files in Excel. Values are turned into text first, so every value is
 * guarded the same way whatever its type.
 */
export function csvRecord(values: readonly unknown[]): string {
  return stringify([values.map(cellText)], { record_delimiter: 'windows', quoted_match: /[\r\n]/ });
}

/** One field, quoted as csvRecord quotes it. */
export function csvField(value: unknown): string {
  return csvRecord([value]).slice(0, -2);
}
