/**
 * RFC 4180 CSV (no CSV library is installed): fields are separated by commas, records end in CRLF,
 * and a field holding a comma, a double quote, CR or LF is wrapped in double quotes with each quote
 * doubled. A field that a spreadsheet would run as a formula (= + - @, tab, CR at the start) is
 * prefixed with a single quote (OWASP CSV injection), since admins open these files in Excel.
 */
export function csvField(value: unknown): string {
  let text: string;
  if (value === null || value === undefined) text = '';
  else if (value instanceof Date) text = value.toISOString();
  else if (typeof value === 'object') text = JSON.stringify(value);
  else text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvRecord(values: readonly unknown[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}
