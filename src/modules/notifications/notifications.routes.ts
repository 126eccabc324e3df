import type { RequestHandler } from 'express';
import { createModuleRouter } from '../../platform/http/router';
import { withInput } from '../../platform/http/validate';
import { getAuth } from '../../platform/auth-context';
import type { InboxService } from './inbox.service';
import type { PreferencesService } from './preferences.service';
import type { DevicesService } from './devices.service';
import * as s from './notifications.schemas';

export function createNotificationsRouter(deps: { inbox: InboxService; preferences: PreferencesService; devices: DevicesService; requireAuth: RequestHandler }) {
  const routes = createModuleRouter('/api/notifications');
  const { inbox, preferences, devices, requireAuth } = deps;
  const me = (res: Parameters<typeof getAuth>[0]) => getAuth(res).userId;

  routes.get('/', requireAuth, withInput(s.listSchema, ['query'], async (input, res) => {
    res.json(await inbox.list(me(res), input));
  }));

  routes.get('/unread-count', requireAuth, async (_req, res) => {
    res.json({ data: { count: await inbox.unreadCount(me(res)) } });
  });

  routes.post('/read-all', requireAuth, withInput(s.readAllSchema, ['body'], async (input, res) => {
    res.json({ data: await inbox.readAll(me(res), input.category) });
  }));

  routes.post('/bulk', requireAuth, withInput(s.bulkSchema, ['body'], async (input, res) => {
    res.json({ data: await inbox.bulk(me(res), input.action, input.ids) });
  }));

  routes.get('/preferences', requireAuth, async (_req, res) => {
    res.json({ data: await preferences.get(me(res)) });
  });

  const updatePreferences = withInput(s.preferencesSchema, ['body'], async (input, res) => {
    res.json({ data: await preferences.update(me(res), input) });
  });
  // PUT and PATCH alike: only the fields sent change (a category sent is replaced as a whole).
  routes.put('/preferences', requireAuth, updatePreferences);
  routes.patch('/preferences', requireAuth, updatePreferences);

  routes.post('/devices', requireAuth, withInput(s.deviceSchema, ['body'], async (input, res) => {
    res.status(201).json({ data: await devices.register(me(res), input) });
  }));

  routes.delete('/devices/:token', requireAuth, withInput(s.deviceTokenParam, ['params'], async (input, res) => {
    await devices.unregister(me(res), input.token);
    res.status(204).end();
  }));

  routes.get('/:id', requireAuth, withInput(s.idParam, ['params'], async (input, res) => {
    res.json({ data: await inbox.get(me(res), input.id) });
  }));

  routes.post('/:id/read', requireAuth, withInput(s.idParam, ['params'], async (input, res) => {
    res.json({ data: await inbox.markRead(me(res), input.id) });
  }));

  routes.post('/:id/seen', requireAuth, withInput(s.idParam, ['params'], async (input, res) => {
    res.json({ data: await inbox.markSeen(me(res), input.id) });
  }));

  routes.delete('/:id', requireAuth, withInput(s.idParam, ['params'], async (input, res) => {
    await inbox.remove(me(res), input.id);
    res.status(204).end();
  }));

  routes.post('/:id/actions/:actionId', requireAuth, withInput(s.actionParams, ['params'], async (input, res) => {
    res.json({ data: await inbox.tapAction(me(res), input.id, input.actionId) });
  }));

  return routes;
}
