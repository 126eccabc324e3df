import type { RequestHandler, Request } from 'express';
import { checkSchema, matchedData, validationResult, type Schema, type Location } from 'express-validator';
import { errors, type ErrorDetail } from '../errors';

export type { Schema };

/** Rejects any object key that starts with `$` or contains a dot, at any depth: no operator injection. */
export function findOperatorKey(value: unknown, path = '', depth = 0): string | null {
  if (depth > 20 || value === null || typeof value !== 'object') return null;
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    const here = path ? `${path}.${key}` : key;
    if (key.startsWith('$') || key.includes('.')) return here;
    const nested = findOperatorKey(item, here, depth + 1);
    if (nested) return nested;
  }
  return null;
}

/**
 * Runs express-validator schemas against a request-like object and returns only the fields the
 * schema names. The same function validates REST bodies and socket payloads.
 */
export async function validateInput<T>(
  schema: Schema,
  input: Partial<Record<Location, unknown>>,
  locations: Location[] = ['body'],
): Promise<T> {
  for (const location of locations) {
    const bad = findOperatorKey(input[location]);
    if (bad) throw errors.validation([{ field: bad, message: 'Field names may not start with $ or contain dots' }]);
  }
  const req = { ...input } as unknown as Request;
  await checkSchema(schema, locations).run(req);
  const result = validationResult(req);
  if (!result.isEmpty()) {
    const details: ErrorDetail[] = [];
    const seen = new Set<string>();
    for (const issue of result.array()) {
      const field = issue.type === 'field' ? issue.path : issue.type;
      if (seen.has(field)) continue;
      seen.add(field);
      details.push({ field, message: String(issue.msg) });
    }
    throw errors.validation(details);
  }
  return matchedData(req, { locations, includeOptionals: false }) as T;
}

/** Express middleware: validates and stores the cleaned input in res.locals.input. */
export function validate(schema: Schema, locations: Location[] = ['body']): RequestHandler {
  return async (req, res, next) => {
    res.locals.input = await validateInput(schema, { body: req.body, query: req.query, params: req.params, headers: req.headers }, locations);
    next();
  };
}
