import { randomBytes } from 'node:crypto';

/**
 * Reads docs/openapi.yaml into what the generated bad-input suite needs: every operation with its
 * path, query and body fields, and a plausible value for each field built from its schema.
 */

export type JsonSchema = {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  example?: unknown;
  default?: unknown;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  minItems?: number;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
};

interface ParameterObject {
  $ref?: string;
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  schema?: JsonSchema;
}

export interface Operation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** OpenAPI template, e.g. /api/users/{id} */
  path: string;
  pathParams: string[];
  query: { name: string; schema: JsonSchema }[];
  /** null when the operation takes no body; 'multipart' for uploads. */
  body: null | 'multipart' | JsonSchema;
  secured: boolean;
}

export interface BodyField {
  /** Dotted path into the body, e.g. business.address.country */
  path: string;
  schema: JsonSchema;
}

type Doc = { paths: Record<string, Record<string, Record<string, unknown>>>; components?: Record<string, Record<string, unknown>> };

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

export function resolveRef<T>(doc: Doc, value: T): T {
  let current = value as { $ref?: string } | undefined;
  for (let hops = 0; current?.$ref && hops < 10; hops += 1) {
    const parts = current.$ref.replace(/^#\//, '').split('/');
    current = parts.reduce<unknown>((node, key) => (node as Record<string, unknown>)?.[key], doc) as { $ref?: string };
  }
  return current as T;
}

/** Inlines $refs and merges allOf so the walker sees one schema tree. */
export function derefSchema(doc: Doc, schema: JsonSchema | undefined, depth = 0): JsonSchema {
  const resolved = resolveRef(doc, schema) ?? {};
  if (depth > 8) return resolved;
  const out: JsonSchema = { ...resolved };
  if (resolved.allOf) {
    for (const part of resolved.allOf.map((s) => derefSchema(doc, s, depth + 1))) {
      out.properties = { ...out.properties, ...part.properties };
      out.required = [...(out.required ?? []), ...(part.required ?? [])];
      out.type ??= part.type;
    }
  }
  if (out.properties) {
    out.properties = Object.fromEntries(Object.entries(out.properties).map(([k, v]) => [k, derefSchema(doc, v, depth + 1)]));
  }
  if (out.items) out.items = derefSchema(doc, out.items, depth + 1);
  return out;
}

export function listOperations(doc: Doc): Operation[] {
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method] as
        | { parameters?: ParameterObject[]; requestBody?: { content?: Record<string, { schema?: JsonSchema }> }; security?: unknown[] }
        | undefined;
      if (!op) continue;
      const params = [...((item.parameters as ParameterObject[] | undefined) ?? []), ...(op.parameters ?? [])].map((p) => resolveRef(doc, p));
      const requestBody = resolveRef(doc, op.requestBody);
      const content = requestBody?.content ?? {};
      let body: Operation['body'] = null;
      if (content['multipart/form-data']) body = 'multipart';
      else if (content['application/json']) body = derefSchema(doc, content['application/json'].schema);
      operations.push({
        method,
        path,
        pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
        query: params.filter((p) => p.in === 'query').map((p) => ({ name: p.name, schema: derefSchema(doc, p.schema) })),
        body,
        secured: Array.isArray(op.security) && op.security.length > 0,
      });
    }
  }
  return operations;
}

/** Every field of a body schema, nested objects and array items included (as path.0). */
export function bodyFields(schema: JsonSchema, prefix = '', depth = 0): BodyField[] {
  if (depth > 4 || !schema.properties) return [];
  const fields: BodyField[] = [];
  for (const [name, child] of Object.entries(schema.properties)) {
    const path = prefix ? `${prefix}.${name}` : name;
    fields.push({ path, schema: child });
    fields.push(...bodyFields(child, path, depth + 1));
    if (child.items) {
      fields.push({ path: `${path}.0`, schema: child.items });
      fields.push(...bodyFields(child.items, `${path}.0`, depth + 1));
    }
  }
  return fields;
}

const firstType = (schema: JsonSchema) => (Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type);

/** A value the schema would plausibly accept: the base that each mutation changes one field of. */
export function plausibleValue(schema: JsonSchema, depth = 0): unknown {
  if (schema.const !== undefined) return schema.const;
  if (schema.example !== undefined) return schema.example;
  if (schema.enum?.length) return schema.enum[0];
  if (schema.default !== undefined) return schema.default;
  const variant = schema.oneOf?.[0] ?? schema.anyOf?.[0];
  if (variant) return plausibleValue(variant, depth + 1);
  switch (firstType(schema) ?? (schema.properties ? 'object' : 'string')) {
    case 'integer':
    case 'number':
      return Math.max(schema.minimum ?? 1, 1);
    case 'boolean':
      return true;
    case 'array':
      return schema.items && (schema.minItems ?? 0) > 0 ? [plausibleValue(schema.items, depth + 1)] : [];
    case 'object': {
      if (depth > 4) return {};
      const entries = Object.entries(schema.properties ?? {}).filter(([name]) => (schema.required ?? []).includes(name));
      return Object.fromEntries(entries.map(([name, child]) => [name, plausibleValue(child, depth + 1)]));
    }
    default: {
      if (schema.format === 'email') return `fuzz-${randomBytes(4).toString('hex')}@example.test`;
      if (schema.format === 'date-time') return new Date().toISOString();
      const length = Math.max(schema.minLength ?? 1, 8);
      return 'Fuzz-value-1'.padEnd(length, 'x').slice(0, Math.max(length, 12));
    }
  }
}

/** Sets `value` at a dotted path (numeric parts make arrays), creating containers on the way. */
export function setPath(target: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const parts = path.split('.');
  let node: Record<string, unknown> | unknown[] = target;
  parts.forEach((part, index) => {
    const key = /^\d+$/.test(part) ? Number(part) : part;
    if (index === parts.length - 1) {
      (node as Record<string | number, unknown>)[key] = value;
      return;
    }
    const nextIsIndex = /^\d+$/.test(parts[index + 1] ?? '');
    const existing = (node as Record<string | number, unknown>)[key];
    if (existing === null || typeof existing !== 'object') (node as Record<string | number, unknown>)[key] = nextIsIndex ? [] : {};
    node = (node as Record<string | number, unknown>)[key] as Record<string, unknown>;
  });
  return target;
}

/** Wrong types, hostile shapes and edge values: what a scanner or a broken client sends. */
export const VALUE_MUTATIONS: [string, unknown][] = [
  ['a number', 12345],
  ['a fraction', 1.5],
  ['a huge number', 1e308],
  ['a negative number', -1],
  ['a boolean', true],
  ['null', null],
  ['an empty object', {}],
  ['an empty array', []],
  ['an array of a string', ['text']],
  ['an array of arrays', [[1, 2]]],
  ['an operator object', { $gt: '' }],
  ['a $ne operator', { $ne: null }],
  ['a dotted key', { 'a.b': 1 }],
  ['an oversized string', 'x'.repeat(30_000)],
  ['a lone surrogate', '\ud800'],
  ['an empty string', ''],
  ['a string of spaces', '   '],
  ['a control-character string', '\u0000\u0007\u001b[31m'],
  ['a regex string', '.*(a+)+$['],
];

/** JSON texts whose parsed object carries prototype keys (a JS literal would drop them). */
export const PROTOTYPE_BODIES = [
  '{"__proto__": {"polluted": true}}',
  '{"constructor": {"prototype": {"polluted": true}}}',
];

export const PATH_MUTATIONS = ['%ZZ', '%', '%C0%AE', '%00', 'x'.repeat(300), '..', '%2e%2e%2f', "'%20OR%201=1", '%7B%22%24gt%22%3A%22%22%7D', '000000000000000000000000', '-1'];

export const QUERY_MUTATIONS: [string, (name: string) => string][] = [
  ['repeated', (name) => `${name}=1&${name}=2`],
  ['empty', (name) => `${name}=`],
  ['long', (name) => `${name}=${'y'.repeat(5_000)}`],
  ['bracketed operator', (name) => `${name}[$gt]=`],
  ['malformed escape', (name) => `${name}=%ZZ`],
  ['negative', (name) => `${name}=-5`],
  ['fraction', (name) => `${name}=1.5`],
  ['huge', (name) => `${name}=99999999999999999999999`],
  ['lone surrogate escape', (name) => `${name}=%ED%A0%80`],
];
