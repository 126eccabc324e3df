import type { RequestHandler } from 'express';
import { createModuleRouter } from '../../platform/http/router';
import { withInput } from '../../platform/http/validate';
import { getAuth } from '../../platform/auth-context';
import type { OffersServices } from './offers.services';
import type { OrderAction } from './orders.service';
import * as s from './offers.schemas';

/** Thin: validate, call the services (the same ones the socket calls), shape the response. */
export function createOffersRouter(offers: OffersServices, requireAuth: RequestHandler) {
  const routes = createModuleRouter('/api/offers');
  const { core, actions, orders, analytics } = offers;

  routes.post('/', requireAuth, withInput({ ...s.createOfferBody, ...s.idempotencyHeader }, ['body', 'headers'], async (input, res) => {
    const { 'idempotency-key': key, ...body } = input;
    const { view, created } = await core.create(getAuth(res).userId, body, key);
    res.status(created ? 201 : 200).json({ data: view });
  }));

  routes.get('/', requireAuth, withInput(s.listOffersQuery, ['query'], async (input, res) => {
    res.json(await core.list(getAuth(res).userId, input));
  }));

  // Fixed paths before /:id.
  routes.get('/analytics', requireAuth, withInput(s.analyticsQuery, ['query'], async (input, res) => {
    res.json({ data: await analytics.forUser(getAuth(res).userId, input) });
  }));

  routes.get('/orders', requireAuth, withInput(s.listOrdersQuery, ['query'], async (input, res) => {
    res.json(await orders.listMine(getAuth(res).userId, input));
  }));

  routes.get('/orders/:id', requireAuth, withInput(s.orderIdParam, ['params'], async (input, res) => {
    res.json({ data: await orders.get(getAuth(res).userId, input.id) });
  }));

  const orderAction = (action: OrderAction) =>
    withInput({ ...s.orderIdParam, ...s.orderActionBody }, ['params', 'body'], async (input, res) => {
      const { id, ...body } = input;
      res.json({ data: await orders.act(getAuth(res).userId, id, action, body) });
    });
  routes.post('/orders/:id/confirm', requireAuth, orderAction('confirm'));
  routes.post('/orders/:id/ship', requireAuth, withInput({ ...s.orderIdParam, ...s.shipBody }, ['params', 'body'], async (input, res) => {
    const { id, ...body } = input;
    res.json({ data: await orders.act(getAuth(res).userId, id, 'ship', body) });
  }));
  routes.post('/orders/:id/deliver', requireAuth, orderAction('deliver'));
  routes.post('/orders/:id/complete', requireAuth, orderAction('complete'));
  routes.post('/orders/:id/cancel', requireAuth, withInput({ ...s.orderIdParam, ...s.cancelBody }, ['params', 'body'], async (input, res) => {
    const { id, ...body } = input;
    res.json({ data: await orders.act(getAuth(res).userId, id, 'cancel', body) });
  }));

  routes.get('/:id', requireAuth, withInput(s.offerIdParam, ['params'], async (input, res) => {
    res.json({ data: await core.get(getAuth(res).userId, input.id) });
  }));

  routes.post('/:id/counter', requireAuth, withInput({ ...s.offerIdParam, ...s.counterBody }, ['params', 'body'], async (input, res) => {
    const { id, ...body } = input;
    res.json({ data: await actions.respond(getAuth(res).userId, id, 'counter', body) });
  }));
  for (const action of ['accept', 'reject', 'withdraw'] as const) {
    routes.post(`/:id/${action}`, requireAuth, withInput({ ...s.offerIdParam, ...s.versionBody }, ['params', 'body'], async (input, res) => {
      const { id, ...body } = input;
      res.json({ data: await actions.respond(getAuth(res).userId, id, action, body) });
    }));
  }

  return routes;
}
