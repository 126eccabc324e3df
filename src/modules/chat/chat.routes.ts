import type { RequestHandler, Response } from 'express';
import { createModuleRouter } from '../../platform/http/router';
import { validate } from '../../platform/http/validate';
import { getAuth } from '../../platform/auth-context';
import type { MemberRole } from './chat.model';
import type { ChatServices } from './chat.services';
import * as s from './chat.schemas';

const input = <T>(res: Response) => res.locals.input as T;

export function createChatRouter(chat: ChatServices, requireAuth: RequestHandler) {
  const routes = createModuleRouter('/api/chat');
  const { conversations, conversationDetails, messages, changes, receipts, sync } = chat;

  routes.post('/conversations', requireAuth, validate(s.createConversationSchema), async (_req, res) => {
    const body = input<Parameters<typeof conversations.create>[1]>(res);
    const { conversation, created } = await conversations.create(getAuth(res).userId, body);
    // An existing direct conversation is answered as found (200), a new one as created (201).
    res.status(created ? 201 : 200).json({ data: conversation });
  });

  routes.get('/conversations', requireAuth, validate(s.listSchema, ['query']), async (_req, res) => {
    res.json(await conversations.list(getAuth(res).userId, input<{ limit?: number; cursor?: string }>(res)));
  });

  routes.get('/conversations/:id', requireAuth, validate(s.conversationIdParam, ['params']), async (_req, res) => {
    res.json({ data: await conversationDetails(getAuth(res).userId, input<{ id: string }>(res).id) });
  });

  routes.patch('/conversations/:id/settings', requireAuth, validate({ ...s.conversationIdParam, ...s.muteSchema }, ['params', 'body']), async (_req, res) => {
    const { id, muted } = input<{ id: string; muted: boolean }>(res);
    res.json({ data: await conversations.setMuted(getAuth(res).userId, id, muted) });
  });

  routes.post('/conversations/:id/members', requireAuth, validate({ ...s.conversationIdParam, ...s.addMembersSchema }, ['params', 'body']), async (_req, res) => {
    const { id, userIds } = input<{ id: string; userIds: string[] }>(res);
    res.json({ data: await conversations.addMembers(getAuth(res).userId, id, userIds) });
  });

  routes.patch('/conversations/:id/members/:userId', requireAuth, validate({ ...s.memberParams, ...s.roleSchema }, ['params', 'body']), async (_req, res) => {
    const { id, userId, role } = input<{ id: string; userId: string; role: MemberRole }>(res);
    res.json({ data: await conversations.setRole(getAuth(res).userId, id, userId, role) });
  });

  routes.delete('/conversations/:id/members/:userId', requireAuth, validate(s.memberParams, ['params']), async (_req, res) => {
    const { id, userId } = input<{ id: string; userId: string }>(res);
    await conversations.removeMember(getAuth(res).userId, id, userId);
    res.status(204).end();
  });

  routes.post('/conversations/:id/messages', requireAuth, validate({ ...s.conversationIdParam, ...s.sendBody }, ['params', 'body']), async (_req, res) => {
    const { id, ...body } = input<{ id: string } & Parameters<typeof messages.send>[2]>(res);
    res.status(201).json({ data: await messages.send(getAuth(res).userId, id, body) });
  });

  routes.get('/conversations/:id/messages', requireAuth, validate({ ...s.conversationIdParam, ...s.listMessagesSchema }, ['params', 'query']), async (_req, res) => {
    const { id, ...query } = input<{ id: string } & Parameters<typeof messages.list>[2]>(res);
    res.json(await messages.list(getAuth(res).userId, id, query));
  });

  routes.post('/conversations/:id/read', requireAuth, validate({ ...s.conversationIdParam, ...s.readBody }, ['params', 'body']), async (_req, res) => {
    const { id, ...upTo } = input<{ id: string; seq?: number; messageId?: string }>(res);
    res.json({ data: await receipts.markRead(getAuth(res).userId, id, upTo) });
  });

  routes.patch('/messages/:id', requireAuth, validate({ ...s.messageIdParam, ...s.editSchema }, ['params', 'body']), async (_req, res) => {
    const { id, text } = input<{ id: string; text: string }>(res);
    res.json({ data: await changes.edit(getAuth(res).userId, id, text) });
  });

  routes.delete('/messages/:id', requireAuth, validate(s.messageIdParam, ['params']), async (_req, res) => {
    res.json({ data: await changes.remove(getAuth(res).userId, input<{ id: string }>(res).id) });
  });

  routes.post('/messages/:id/reactions', requireAuth, validate({ ...s.messageIdParam, ...s.reactionBody }, ['params', 'body']), async (_req, res) => {
    const { id, emoji } = input<{ id: string; emoji: string }>(res);
    res.json({ data: await changes.react(getAuth(res).userId, id, emoji) });
  });

  routes.delete('/messages/:id/reactions', requireAuth, validate({ ...s.messageIdParam, ...s.reactionQuery }, ['params', 'query']), async (_req, res) => {
    const { id, emoji } = input<{ id: string; emoji: string }>(res);
    res.json({ data: await changes.unreact(getAuth(res).userId, id, emoji) });
  });

  routes.get('/sync', requireAuth, validate(s.syncSchema, ['query']), async (_req, res) => {
    res.json({ data: await sync.sync(getAuth(res).userId, input<{ since?: string; limit?: number }>(res)) });
  });

  return routes;
}
