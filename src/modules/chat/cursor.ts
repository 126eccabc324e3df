import { errors } from '../../platform/errors';

/** Opaque cursors: base64url JSON, so clients never build or parse them. */
export function encodeCursor(value: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor<T extends Record<string, unknown>>(
  raw: string | undefined,
  check: (value: Record<string, unknown>) => value is T,
  field = 'cursor',
): T | null {
  if (raw === undefined) return null;
  try {
    const value = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value) && check(value as Record<string, unknown>)) return value as T;
  } catch {
    // Fall through: a malformed cursor is a client error, answered below.
  }
  throw errors.validation([{ field, message: `${field} is not valid` }]);
}

export const isNonNegativeInt = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
