import type { Role } from '../../src/platform/auth-context';
import { startTestServer, type TestServer } from '../helpers/server';
import { bearer, type TestUser } from '../helpers/users';
import { usersByRole } from './helpers';
import type { AnalyticsModule } from '../../src/modules/analytics';
import { act, createOffer, cuminOffer, parties } from '../offers/offers-helpers';

describe('admin oversight of finance and notifications, audited', () => {
  let app: TestServer;
  let people: Record<Role, TestUser>;

  beforeAll(async () => {
    app = await startTestServer({ env: { RATE_LIMIT_MAX: '1000000', CHAT_SEND_RATE_MAX: '100000', CHAT_SYNC_SETTLE_MS: '0' } });
    people = await usersByRole(app);
  }, 120_000);
  afterAll(() => app.close());

  const call = (method: 'get' | 'post' | 'put', path: string, body?: object, who: TestUser = people.admin) =>
    app.api[method](path).set('Authorization', bearer(who)).send(body);
  const lastAudit = async (action: string) => (await call('get', `/api/admin/audit?action=${action}&limit=1`)).body.data[0];

  it('sets a credit limit, freezes and unfreezes the line, each with before and after in the audit trail', async () => {
    const created = await call('put', '/api/admin/finance/credit-lines', { buyerId: people.user.id, vendorId: people.vendor.id, currency: 'INR', limit: 500_000, creditDays: 30, reason: 'Onboarding review' });
    expect(created.status).toBe(200);
    const line = created.body.data;
    expect(line).toMatchObject({ buyerId: people.user.id, vendorId: people.vendor.id, limit: { amount: 500_000, currency: 'INR' }, status: 'active' });
    expect(await lastAudit('credit_line.set_limit')).toMatchObject({ actor: { id: people.admin.id }, target: { type: 'credit_line', id: line.id }, before: null, after: { limit: { amount: 500_000 } }, reason: 'Onboarding review' });

    const raised = await call('put', '/api/admin/finance/credit-lines', { buyerId: people.user.id, vendorId: people.vendor.id, currency: 'INR', limit: 750_000, reason: 'Good payment history' });
    expect(raised.body.data.limit.amount).toBe(750_000);
    expect(await lastAudit('credit_line.set_limit')).toMatchObject({ before: { limit: { amount: 500_000 } }, after: { limit: { amount: 750_000 } } });

    const frozen = await call('post', `/api/admin/finance/credit-lines/${line.id}/freeze`, { reason: 'Overdue invoices' });
    expect(frozen.status).toBe(200);
    expect(frozen.body.data.status).toBe('frozen');
    expect(await lastAudit('credit_line.freeze')).toMatchObject({ target: { id: line.id }, before: { status: 'active' }, after: { status: 'frozen' }, reason: 'Overdue invoices' });
    const thawed = await call('post', `/api/admin/finance/credit-lines/${line.id}/unfreeze`, { reason: 'Paid up' });
    expect(thawed.body.data.status).toBe('active');
    expect(await lastAudit('credit_line.unfreeze')).toMatchObject({ before: { status: 'frozen' }, after: { status: 'active' } });

    expect((await call('get', `/api/admin/finance/credit-lines/${line.id}`)).body.data).toMatchObject({ id: line.id, status: 'active' });
    expect((await call('get', '/api/admin/finance/credit-lines/no-such-line')).status).toBe(404);
    expect((await call('put', '/api/admin/finance/credit-lines', { buyerId: people.user.id, vendorId: people.vendor.id, currency: 'inr', limit: -1, reason: 'bad' })).status).toBe(400);
  });

  it('runs a reconciliation on demand (audited) and shows the last one', async () => {
    const run = await call('post', '/api/admin/finance/reconciliation', {});
    expect(run.status).toBe(200);
    expect(await lastAudit('finance.reconcile')).toMatchObject({ actor: { id: people.admin.id }, target: { type: 'reconciliation' } });
    const last = await call('get', '/api/admin/finance/reconciliation');
    expect(last.status).toBe(200);
    expect(last.body.data).not.toBeNull();
  });

  it('creates a campaign (audited) and reads it back with its figures', async () => {
    const res = await call('post', '/api/admin/notifications/campaigns', { title: 'Diwali offers', body: 'Credit days doubled this week', segment: { roles: ['user'] }, data: { screen: 'offers' } });
    expect(res.status).toBe(201);
    const id = res.body.data.id as string;
    expect(await lastAudit('campaign.create')).toMatchObject({ actor: { id: people.admin.id }, target: { type: 'campaign', id }, before: null, after: { id, title: 'Diwali offers' } });
    const read = await call('get', `/api/admin/notifications/campaigns/${id}`);
    expect(read.status).toBe(200);
    expect(read.body.data).toMatchObject({ id, stats: expect.any(Object) });
    expect((await call('post', '/api/admin/notifications/campaigns', { title: '', body: 'x' })).status).toBe(400);
    expect((await call('post', '/api/admin/notifications/campaigns', { title: 't', body: 'b', segment: { roles: ['king'] } })).status).toBe(400);
    expect((await call('get', '/api/admin/notifications/stats')).status).toBe(200);
  });

  it('lists offers and orders with filters and cancels an order with a reason (audited)', async () => {
    const p = await parties(app);
    const offer = await createOffer(app, p.vendor, cuminOffer(p, { payment: { kind: 'prepaid' } }));
    const orderId = (await act(app, p.buyer, offer.id, 'accept', { version: 1 }).expect(200)).body.data.orderId as string;
    const offersListed = await call('get', `/api/admin/offers?buyerId=${p.buyer.id}`);
    expect(offersListed.status).toBe(200);
    expect(offersListed.body.data.map((o: { id: string }) => o.id)).toEqual([offer.id]);
    const orders = await call('get', `/api/admin/orders?vendorId=${p.vendor.id}`);
    expect(orders.body.data.map((o: { id: string }) => o.id)).toEqual([orderId]);
    // The order's line reaches analytics (read through offers' contract) and GET /top ranks the product.
    await app.ctx.events.drain();
    await (app.server.modules.find((m) => m.name === 'analytics') as AnalyticsModule).flush();
    const top = await call('get', '/api/admin/analytics/top?limit=5');
    expect(top.status).toBe(200);
    expect(top.body.data.vendors).toEqual([{ vendorId: p.vendor.id, currency: 'INR', value: 500 * 24_000, orders: 1 }]);
    expect(top.body.data.products).toEqual([{ product: 'CUM-01', sku: 'CUM-01', name: 'Cumin seeds', unit: 'kg', quantity: 500, orders: 1, vendors: 1 }]);
    const cancelled = await call('post', `/api/admin/orders/${orderId}/cancel`, { reason: 'Buyer account under review' });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.data).toMatchObject({ id: orderId, status: 'cancelled' });
    expect(await lastAudit('order.cancel')).toMatchObject({ actor: { id: people.admin.id }, target: { type: 'order', id: orderId }, after: { id: orderId, status: 'cancelled' }, reason: 'Buyer account under review' });
    expect((await call('post', `/api/admin/orders/${orderId}/cancel`, {})).status).toBe(400);
    expect((await call('get', '/api/admin/orders?buyerId=nope')).status).toBe(400);
  });
});
