import { MAX_DRAFT_ITEMS, toDraftOffer } from '../../src/modules/ai/draft-offer';

describe("a catalogue extraction's output as a draft offer", () => {
  it('survives any output shape: no items, nothing dropped, never a throw', () => {
    for (const output of [null, undefined, 'text', 42, [], {}, { items: 'many' }, { items: null }]) {
      expect(toDraftOffer(output)).toEqual({ draftOffer: { items: [] }, droppedItems: 0 });
    }
  });

  it('keeps valid items in the offers item shape and drops (and counts) the rest', () => {
    const { draftOffer, droppedItems } = toDraftOffer({
      items: [
        { name: 'Rice', unitPrice: { amount: 100, currency: 'inr' }, quantity: 2, unit: 'kg', sku: 42, description: '' },
        { name: 'Dal', unitPrice: { amount: 50 } },
        { name: 'Oil', unitPrice: { amount: 50, currency: 'USD' } },
        { name: 'Bad currency', unitPrice: { amount: 50, currency: 'rupees' } },
        { name: 'x'.repeat(201), unitPrice: 1 },
        { name: 'Negative', unitPrice: -5 },
        { name: 'Big unit', unitPrice: 5, unit: 'u'.repeat(21) },
        { name: 'Unsafe', unitPrice: 2 ** 60 },
        { name: 'Text price', unitPrice: '100' },
        null,
      ],
    });
    expect(draftOffer).toEqual({
      currency: 'INR',
      items: [
        { name: 'Rice', quantity: 2, unit: 'kg', unitPrice: 100 },
        { name: 'Dal', quantity: 1, unit: 'unit', unitPrice: 50 },
      ],
    });
    expect(droppedItems).toBe(8);
  });

  it(`keeps at most ${MAX_DRAFT_ITEMS} items and counts the others dropped`, () => {
    const items = Array.from({ length: MAX_DRAFT_ITEMS + 3 }, (_, i) => ({ name: `Item ${i}`, unitPrice: i + 1 }));
    const { draftOffer, droppedItems } = toDraftOffer({ items, currency: 'EUR' });
    expect(draftOffer.items).toHaveLength(MAX_DRAFT_ITEMS);
    expect(draftOffer.currency).toBe('EUR');
    expect(droppedItems).toBe(3);
  });
});
