import path from 'node:path';

const MAX_NAME_LENGTH = 120;

/**
 * A user's file name is display metadata only. It is reduced to a plain base name (no directories,
 * control characters, quotes or characters that are special in a header or on some filesystems),
 * and its extension is replaced by the one the content really has, so a script cannot travel as
 * "invoice.pdf.html".
 */
export function cleanFileName(original: string | undefined, ext: string, fallback: string): string {
  const base = (original ?? '').normalize('NFC').split(/[\\/]/).pop() ?? '';
  const stem = path
    .parse(base)
    .name.replace(/[\p{Cc}\p{Cf}"*:<>?|;%]/gu, '')
    .replace(/\s+/g, ' ')
    .replace(/^[.\s]+|[.\s]+$/g, '')
    .slice(0, MAX_NAME_LENGTH);
  return `${stem || fallback}.${ext}`;
}

/** RFC 6266 Content-Disposition with an ASCII fallback and the UTF-8 name. */
export function contentDisposition(type: 'inline' | 'attachment', fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  const encoded = encodeURIComponent(fileName).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${type}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
