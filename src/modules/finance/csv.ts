/**
 * RFC 4180 CSV: every field quoted, quotes doubled, CRLF line ends. Text that a spreadsheet would
 * run as a formula (=, +, -, @, tab, CR first) is prefixed with an apostrophe (OWASP CSV injection).
 * Numbers are written as they are. No CSV library is installed in this project (see the report);
 * this is the one place rows become text.
 */
export function toCsv(header: string[], rows: Array<Array<string | number | boolean | null>>): string {
  const cell = (value: string | number | boolean | null): string => {
    if (value === null) return '""';
    if (typeof value === 'number' || typeof value === 'boolean') return `"${String(value)}"`;
    const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
    return `"${safe.replace(/"/g, '""')}"`;
  };
  return [header, ...rows].map((row) => row.map(cell).join(',')).join('\r\n') + '\r\n';
}
