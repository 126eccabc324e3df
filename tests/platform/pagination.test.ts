import { AppError } from '../../src/platform/errors';
import { decodeCursor, encodeCursor, isNonNegativeInt } from '../../src/platform/pagination';

type SeqCursor = { s: number };
const isSeqCursor = (v: Record<string, unknown>): v is SeqCursor => isNonNegativeInt(v.s);

function rejection(run: () => unknown): AppError {
  try {
    run();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('opaque cursors', () => {
  it('decodes what it encoded, and treats a missing cursor as the first page', () => {
    const cursor = encodeCursor({ s: 42 });
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, isSeqCursor)).toEqual({ s: 42 });
    expect(decodeCursor(undefined, isSeqCursor)).toBeNull();
  });

  it.each([
    ['not base64 JSON', 'garbage'],
    ['JSON that is not an object', Buffer.from('[1,2]').toString('base64url')],
    ['an object of the wrong shape', encodeCursor({ s: -1 })],
    ['an empty string', ''],
  ])('refuses %s as VALIDATION_FAILED on the named field', (_what, raw) => {
    const err = rejection(() => decodeCursor(raw, isSeqCursor, 'since'));
    expect(err.code).toBe('VALIDATION_FAILED');
    expect(err.status).toBe(400);
    expect(err.details).toEqual([{ field: 'since', message: 'since is not valid' }]);
  });
});
