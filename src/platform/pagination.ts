import { errors } from './errors';
import { parseObjectId } from './mongo';

/**
 * The one cursor format of every list (DESIGN.md: `?cursor=` is opaque): base64url of a small
 * JSON object, so clients never build or parse one and a service can change what it keys on.
 * Each list describes its cursor with a type guard; anything that does not decode to an object
 * passing that guard is the client's mistake, answered as VALIDATION_FAILED on `field`.
 */
/** A list's page size when the client sends no `?limit=` (schemas cap it at 100). */
export const DEFAULT_PAGE_LIMIT = 20;

export type CursorValue = Record<string, string | number>;

export function encodeCursor(value: CursorValue): string {
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

/** Guards for cursor fields. */
export const isNonNegativeInt = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
export const isObjectIdHex = (value: unknown): value is string => parseObjectId(value) !== null;
