import { defineSchema, validateInput, type InputOf } from '../../src/platform/http/validate';
import { AppError } from '../../src/platform/errors';

/** Compile-time equality: `Expect<Equal<A, B>>` fails the typecheck step when A and B differ. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;

const orderSchema = defineSchema({
  id: { in: ['params'], type: 'string', isMongoId: true },
  kind: { type: 'string', oneOf: ['spot', 'credit'] },
  note: { type: 'string', optional: true, nullable: true },
  limit: { type: 'integer', optional: true, toInt: true },
  tags: { type: 'array', optional: true },
  'tags.*': { type: 'string' },
  items: { type: 'array' },
  'items.*.sku': { type: 'string' },
  'items.*.quantity': { type: 'number' },
  'items.*.unit': { type: 'string', optional: true },
  delivery: { type: 'object' },
  'delivery.place': { type: 'string' },
  meta: { type: 'object', optional: true },
});

type Order = InputOf<typeof orderSchema>;
// These lines are the test of the type mapping: a wrong mapping is a typecheck error.
export type Checks = [
  Expect<Equal<Order['id'], string>>,
  Expect<Equal<Order['kind'], 'spot' | 'credit'>>,
  Expect<Equal<Order['note'], string | null | undefined>>,
  Expect<Equal<Order['limit'], number | undefined>>,
  Expect<Equal<Order['tags'], string[] | undefined>>,
  Expect<Equal<Order['items'], Array<{ sku: string; quantity: number; unit?: string }>>>,
  Expect<Equal<Order['delivery'], { place: string }>>,
  Expect<Equal<Order['meta'], Record<string, unknown> | undefined>>,
];

describe('typed input (defineSchema, InputOf, oneOf)', () => {
  const valid = {
    kind: 'credit',
    items: [{ sku: 'CUMIN-1', quantity: 500 }],
    delivery: { place: 'Pune' },
  };

  it('lets a valid input through with the declared fields only', async () => {
    const input = await validateInput<Order>(orderSchema, { params: { id: '64b7f0c2a1b2c3d4e5f60718' }, body: { ...valid, extra: 1 } }, ['params', 'body']);
    expect(input).toEqual({ id: '64b7f0c2a1b2c3d4e5f60718', ...valid });
  });

  it('refuses a value outside oneOf with a message naming the allowed values', async () => {
    const attempt = validateInput(orderSchema, { params: { id: '64b7f0c2a1b2c3d4e5f60718' }, body: { ...valid, kind: 'barter' } }, ['params', 'body']);
    await expect(attempt).rejects.toBeInstanceOf(AppError);
    await expect(attempt).rejects.toMatchObject({ details: [{ field: 'kind', message: 'kind must be one of spot, credit' }] });
  });

  it('checks the declared type before oneOf, so an array is a type error', async () => {
    const attempt = validateInput(orderSchema, { params: { id: '64b7f0c2a1b2c3d4e5f60718' }, body: { ...valid, kind: ['spot'] } }, ['params', 'body']);
    await expect(attempt).rejects.toMatchObject({ details: [{ field: 'kind', message: 'kind must be a string' }] });
  });

  it('reads a field declared `in: params` from the path only', async () => {
    const attempt = validateInput(orderSchema, { params: {}, body: { ...valid, id: '64b7f0c2a1b2c3d4e5f60718' } }, ['params', 'body']);
    await expect(attempt).rejects.toMatchObject({ details: [{ field: 'id', message: 'id is required' }] });
  });
});
