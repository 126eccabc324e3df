import type { RequestHandler, Request, Response } from 'express';
import { checkSchema, matchedData, validationResult, type ParamSchema, type Location, type Meta } from 'express-validator';
import { errors, type ErrorDetail } from '../errors';

/**
 * The JSON type every schema field must declare. It is checked before any other validator or
 * sanitiser of the field runs, so `["user"]` where a string is expected, an object where a number
 * is expected, or a repeated query parameter can never reach a rule that would coerce it.
 * In `query` and `params`, where every value arrives as text, `integer`, `number` and `boolean`
 * mean text of that form (`"20"`, `"true"`); in bodies and socket payloads they mean the JSON type.
 */
export type FieldType = 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array';

export type FieldSchema = Omit<ParamSchema, 'in'> & {
  type: FieldType;
  /** Where the field is read from, when not every location the route validates. */
  in?: Location | readonly Location[];
  /** `null` passes the type check (and is kept) when the field's later rules accept it. */
  nullable?: boolean;
  /** The only values a string field accepts; InputOf types the field as their union. */
  oneOf?: readonly string[];
};

/** A validation schema: express-validator's, with a declared type on every field. */
export type Schema = Record<string, FieldSchema>;

/**
 * Declares a schema and keeps its literal types (`type: 'string'`, `optional: true`, `oneOf`), so
 * InputOf<typeof schema> is the exact type of what validation lets through. Use it for every schema.
 */
export function defineSchema<const S extends Schema>(schema: S): S {
  return schema;
}

// ---- InputOf: the cleaned input's type, derived from the schema that produced it ----------------

type At<S, K> = K extends keyof S ? S[K] : never;
// `optional` present and not false (also `optional?: boolean` from a helper that adds it conditionally).
type IsOptional<F> = 'optional' extends keyof F ? (F[Extract<'optional', keyof F>] extends false | undefined ? false : true) : false;
type WithNull<F, T> = F extends { nullable: true } ? T | null : T;
type HasChildren<S, P extends string> = [Extract<keyof S, `${P}.${string}`>] extends [never] ? false : true;
/** The keys directly under a prefix (`''` for the top level, `items.*.` for an array's objects). */
type DirectKeys<S, P extends string> = {
  [K in keyof S & string]: K extends `${P}${infer Rest}` ? (Rest extends `${string}.${string}` ? never : Rest) : never;
}[keyof S & string];
type Scalar<F> = F extends { oneOf: readonly (infer U)[] }
  ? U
  : F extends { type: 'string' }
    ? string
    : F extends { type: 'integer' | 'number' }
      ? number
      : F extends { type: 'boolean' }
        ? boolean
        : unknown;
type FieldValue<S, Path extends string> = Path extends keyof S
  ? S[Path] extends { type: 'array' }
    ? WithNull<S[Path], Array<FieldValue<S, `${Path}.*`>>>
    : S[Path] extends { type: 'object' }
      ? WithNull<S[Path], HasChildren<S, Path> extends true ? ObjectValue<S, `${Path}.`> : Record<string, unknown>>
      : WithNull<S[Path], Scalar<S[Path]>>
  : HasChildren<S, Path> extends true
    ? ObjectValue<S, `${Path}.`>
    : unknown;
type ObjectValue<S, P extends string> = Flatten<{
  [K in DirectKeys<S, P> as IsOptional<At<S, `${P}${K}`>> extends true ? never : K]: FieldValue<S, `${P}${K}`>;
} & {
  [K in DirectKeys<S, P> as IsOptional<At<S, `${P}${K}`>> extends true ? K : never]?: FieldValue<S, `${P}${K}`>;
}>;
type Flatten<T> = { [K in keyof T]: T[K] };

/**
 * What validate(schema) leaves in the handler's hands: `a.*` fields type `a`'s elements and
 * `a.*.b` fields its objects' properties; optional fields are optional, `oneOf` fields a union.
 * Query integers are numbers only because their schemas convert them (`toInt`).
 */
export type InputOf<S> = ObjectValue<S, ''>;

/** The longest string any field accepts unless its own rules say less; bodies are bounded anyway. */
export const MAX_STRING_LENGTH = 20_000;

const TEXT_LOCATIONS = new Set<Location>(['query', 'params', 'headers', 'cookies']);
const INTEGER_TEXT = /^-?\d{1,15}$/;
const NUMBER_TEXT = /^-?\d{1,15}(\.\d{1,15})?$/;
// Text a store cannot hold: a lone UTF-16 surrogate (valid JSON, not text) and NUL, which
// PostgreSQL's jsonb (FerretDB's backend here) refuses. No legitimate field carries either.
const UNSTORABLE_TEXT = new RegExp(String.raw`[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]|\u0000`);

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

function describe(type: FieldType): string {
  return type === 'object' || type === 'array' || type === 'integer' ? `an ${type}` : `a ${type}`;
}

/** True when `value` has the declared type in the location it was read from. */
export function hasType(value: unknown, type: FieldType, location: Location): boolean {
  const asText = TEXT_LOCATIONS.has(location);
  switch (type) {
    case 'string':
      // A lone UTF-16 surrogate is valid JSON but not text: validators and drivers choke on it.
      return typeof value === 'string' && value.length <= MAX_STRING_LENGTH && !UNSTORABLE_TEXT.test(value);
    case 'integer':
      return asText ? typeof value === 'string' && INTEGER_TEXT.test(value) : Number.isSafeInteger(value);
    case 'number':
      return asText
        ? typeof value === 'string' && NUMBER_TEXT.test(value)
        : typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return asText ? value === 'true' || value === 'false' : typeof value === 'boolean';
    case 'object':
      return value !== null && typeof value === 'object' && !Array.isArray(value) && !Buffer.isBuffer(value);
    case 'array':
      return Array.isArray(value);
  }
}

function typeValidator(type: FieldType, nullable: boolean) {
  return (value: unknown, meta: Meta) => {
    if (value === null && nullable) return true;
    // Optional fields never get here when absent: an absent value means a required field is missing.
    if (value === undefined) throw new Error(`${meta.path} is required`);
    if (!hasType(value, type, meta.location)) {
      if (TEXT_LOCATIONS.has(meta.location) && Array.isArray(value)) throw new Error(`${meta.path} must be given once`);
      if (type === 'string' && typeof value === 'string') {
        throw new Error(
          value.length > MAX_STRING_LENGTH
            ? `${meta.path} must be at most ${MAX_STRING_LENGTH} characters`
            : `${meta.path} must be valid text (no NUL characters or unpaired UTF-16 surrogates)`,
        );
      }
      throw new Error(`${meta.path} must be ${describe(type)}`);
    }
    return true;
  };
}

const compiled = new WeakMap<Schema, Record<string, ParamSchema>>();

/**
 * Turns a typed schema into express-validator's form: the type check runs first and bails, so no
 * later validator or sanitiser ever sees a value of the wrong type. A field without a declared type
 * is a programming error and fails at start-up, when the route is declared.
 */
export function compileSchema(schema: Schema): Record<string, ParamSchema> {
  const cached = compiled.get(schema);
  if (cached) return cached;
  const out: Record<string, ParamSchema> = {};
  for (const [field, { type, nullable, oneOf, ...rules }] of Object.entries(schema)) {
    if (!type) throw new Error(`Validation schema field "${field}" declares no type`);
    const allowed = oneOf
      ? { oneOf: { custom: (value: unknown) => value === null || oneOf.includes(value as string), errorMessage: `${field} must be one of ${oneOf.join(', ')}`, bail: true } }
      : {};
    const where = rules.in === undefined ? {} : { in: typeof rules.in === 'string' ? rules.in : [...rules.in] };
    out[field] = { declaredType: { custom: typeValidator(type, nullable === true), bail: true }, ...allowed, ...rules, ...where } as unknown as ParamSchema;
  }
  compiled.set(schema, out);
  return out;
}

const chains = new WeakMap<Schema, Map<string, ReturnType<typeof checkSchema>>>();

/**
 * express-validator's chains for a schema and its locations, built once: `checkSchema` builds a
 * chain object per field and rule, which cost a noticeable share of a small request's CPU when
 * it ran on every request. Chains are stateless between runs (express-validator's own middleware
 * form reuses them for every request), so one set serves every request and socket event.
 */
function chainsFor(schema: Schema, rules: Record<string, ParamSchema>, locations: Location[]): ReturnType<typeof checkSchema> {
  let bySchema = chains.get(schema);
  if (!bySchema) {
    bySchema = new Map();
    chains.set(schema, bySchema);
  }
  const key = locations.join(',');
  let built = bySchema.get(key);
  if (!built) {
    built = checkSchema(rules, locations);
    bySchema.set(key, built);
  }
  return built;
}

/**
 * Runs a typed schema against a request-like object and returns only the fields the schema
 * names. The same function validates REST bodies and socket payloads.
 */
export async function validateInput<T>(
  schema: Schema,
  input: Partial<Record<Location, unknown>>,
  locations: Location[] = ['body'],
): Promise<T> {
  const rules = compileSchema(schema);
  for (const location of locations) {
    const bad = findOperatorKey(input[location]);
    if (bad) throw errors.validation([{ field: bad, message: 'Field names may not start with $ or contain dots' }]);
  }
  const req = { ...input } as unknown as Request;
  await chainsFor(schema, rules, locations).run(req);
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

/**
 * A route's validation and handler in one: the handler receives the cleaned input typed from the
 * schema, so no handler casts `res.locals.input`. Pass the result after the route's guards:
 * `routes.post('/x/:id', requireAuth, withInput(schema, ['params', 'body'], async (input, res) => …))`.
 */
export function withInput<S extends Schema>(
  schema: S,
  locations: Location[],
  handler: (input: InputOf<S>, res: Response, req: Request) => Promise<unknown> | unknown,
): RequestHandler[] {
  return [
    validate(schema, locations),
    async (req, res) => {
      await handler(res.locals.input as InputOf<S>, res, req);
    },
  ];
}

/** Express middleware: validates and stores the cleaned input in res.locals.input. */
export function validate(schema: Schema, locations: Location[] = ['body']): RequestHandler {
  compileSchema(schema);
  return async (req, res, next) => {
    res.locals.input = await validateInput(schema, { body: req.body, query: req.query, params: req.params, headers: req.headers }, locations);
    next();
  };
}
