import { createReadStream } from 'node:fs';
import { fromFile } from 'file-type';
import { errors } from '../../platform/errors';
import { ALLOWED, KIND_LABEL, type AllowedType, type UploadKind } from './uploads.types';

/** How much of a CSV is parsed to check its shape; the whole file is still checked for UTF-8 and NUL. */
const CSV_SAMPLE_CHARS = 64 * 1024;
const CSV_SAMPLE_RECORDS = 50;
const CSV_DELIMITERS = [',', ';', '\t'];

/** Field counts per record of a CSV sample (RFC 4180 quoting); the last record may be cut short. */
function recordFieldCounts(text: string, delimiter: string, complete: boolean): number[] {
  const counts: number[] = [];
  let fields = 1;
  let inQuotes = false;
  let recordHasContent = false;
  for (let i = 0; i < text.length && counts.length < CSV_SAMPLE_RECORDS; i += 1) {
    const ch = text[i];
    if (inQuotes) {
      if (ch === '"') {
        if (text[i + 1] === '"') i += 1;
        else inQuotes = false;
      }
      continue;
    }
    if (ch === '"') {
      inQuotes = true;
      recordHasContent = true;
    } else if (ch === delimiter) {
      fields += 1;
      recordHasContent = true;
    } else if (ch === '\n') {
      if (recordHasContent) counts.push(fields);
      fields = 1;
      recordHasContent = false;
    } else if (ch !== '\r') {
      recordHasContent = true;
    }
  }
  if (complete && recordHasContent && !inQuotes && counts.length < CSV_SAMPLE_RECORDS) counts.push(fields);
  return counts;
}

function looksLikeCsv(sample: string, complete: boolean): boolean {
  return CSV_DELIMITERS.some((delimiter) => {
    const counts = recordFieldCounts(sample, delimiter, complete);
    const first = counts[0];
    return first !== undefined && first >= 2 && counts.every((count) => count === first);
  });
}

/**
 * CSV has no magic number, so it is decided by content: the whole file is valid UTF-8 without NUL
 * bytes, and the first records split into the same number (at least two) of fields on one of
 * `,` `;` or tab. A lone column or free text is therefore not accepted as CSV.
 */
export async function isCsv(filePath: string): Promise<boolean> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  let sample = '';
  try {
    for await (const chunk of createReadStream(filePath)) {
      const bytes = chunk as Buffer;
      if (bytes.includes(0)) return false;
      const text = decoder.decode(bytes, { stream: true });
      if (sample.length < CSV_SAMPLE_CHARS) sample += text;
    }
    decoder.decode();
  } catch {
    return false;
  }
  const complete = sample.length <= CSV_SAMPLE_CHARS;
  return looksLikeCsv(complete ? sample : sample.slice(0, CSV_SAMPLE_CHARS), complete);
}

/** Decides a file's type from its bytes alone; the name and the client's Content-Type are ignored. */
export async function detectType(filePath: string, kind: UploadKind): Promise<AllowedType> {
  const detected = await fromFile(filePath);
  const allowed = ALLOWED[kind];
  if (detected) {
    const type = allowed[detected.mime];
    if (type) return type;
  } else if (kind === 'document' && (await isCsv(filePath))) {
    return allowed['text/csv'] as AllowedType;
  }
  throw errors.unsupportedMediaType(`The file's content is not one of the accepted ${KIND_LABEL[kind]}`);
}
