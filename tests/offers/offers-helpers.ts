import type { TestServer } from '../helpers/server';
import { bearer, createUser, type TestUser } from '../helpers/users';
import { directConversation } from '../chat/chat-helpers';

/** Offers tests send many requests from one IP; the global budget is not what they are about. */
export const OFFERS_TEST_ENV = { RATE_LIMIT_MAX: '1000000', CHAT_SEND_RATE_MAX: '100000', CHAT_SYNC_SETTLE_MS: '0' };

export interface Parties {
  buyer: TestUser;
  vendor: TestUser;
  stranger: TestUser;
  conversationId: string;
}

export async function parties(app: TestServer): Promise<Parties> {
  const [buyer, vendor, stranger] = await Promise.all([createUser(app), createUser(app, { role: 'vendor' }), createUser(app)]);
  const conversationId = await directConversation(app, vendor, buyer);
  return { buyer, vendor, stranger, conversationId };
}

/** The example: 500 kg of cumin at 240.00/kg delivered to Pune in 10 days on 30-day credit. */
export function cuminOffer(p: Parties, overrides: Record<string, unknown> = {}) {
  return {
    conversationId: p.conversationId,
    buyerId: p.buyer.id,
    vendorId: p.vendor.id,
    currency: 'INR',
    items: [{ name: 'Cumin seeds', sku: 'CUM-01', quantity: 500, unit: 'kg', unitPrice: 24_000 }],
    delivery: { place: 'Pune', leadTimeDays: 10, incoterm: 'DAP Pune' },
    payment: { kind: 'credit', creditDays: 30 },
    termsText: 'Moisture below 10%',
    ...overrides,
  };
}

export async function createOffer(app: TestServer, by: TestUser, body: Record<string, unknown>) {
  const res = await app.api.post('/api/offers').set('Authorization', bearer(by)).send(body);
  if (res.status !== 201) throw new Error(`create offer failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data as OfferBody;
}

export function act(app: TestServer, by: TestUser, offerId: string, action: string, body: Record<string, unknown>) {
  return app.api.post(`/api/offers/${offerId}/${action}`).set('Authorization', bearer(by)).send(body);
}

export interface OfferBody {
  id: string;
  status: string;
  turn: string | null;
  version: number;
  total: { amount: number; currency: string };
  orderId: string | null;
  rounds: Array<{ version: number; proposedBy: string; total: { amount: number }; diff: Array<{ field: string; from: unknown; to: unknown }> }>;
  [key: string]: unknown;
}
