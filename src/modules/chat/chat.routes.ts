import type { RequestHandler } from 'express';
import { createModuleRouter } from '../../platform/http/router';
import { withInput } from '../../platform/http/validate';
import { getAuth } from '../../platform/auth-context';
import type { ChatServices } from './chat.services';
import * as s from './chat.schemas';

export function createChatRouter(chat: ChatServices, requireAuth: RequestHandler) {
  const routes = createModuleRouter('/api/chat');
  const { conversations, conversationDetails, messages, changes, receipts, sync } = chat;

  routes.post('/conversations', requireAuth, withInput(s.createConversationSchema, ['body'], async (input, res) => {
    const body = input;
    const { conversation, created } = await conversations.create(getAuth(res).userId, body);
    // An existing direct conversation is answered as found (200), a new one as created (201).
    res.status(created ? 201 : 200).json({ data: conversation });
  }));

  routes.get('/conversations', requireAuth, withInput(s.listSchema, ['query'], async (input, res) => {
    res.json(await conversations.list(getAuth(res).userId, input));
  }));

  routes.get('/conversations/:id', requireAuth, withInput(s.conversationIdParam, ['params'], async (input, res) => {
    res.json({ data: await conversationDetails(getAuth(res).userId, input.id) });
  }));

  routes.patch('/conversations/:id/settings', requireAuth, withInput({ ...s.conversationIdParam, ...s.muteSchema }, ['params', 'body'], async (input, res) => {
    const { id, muted } = input;
    res.json({ data: await conversations.setMuted(getAuth(res).userId, id, muted) });
  }));

  routes.post('/conversations/:id/members', requireAuth, withInput({ ...s.conversationIdParam, ...s.addMembersSchema }, ['params', 'body'], async (input, res) => {
    const { id, userIds } = input;
    res.json({ data: await conversations.addMembers(getAuth(res).userId, id, userIds) });
  }));

  routes.patch('/conversations/:id/members/:userId', requireAuth, withInput({ ...s.memberParams, ...s.roleSchema }, ['params', 'body'], async (input, res) => {
    const { id, userId, role } = input;
    res.json({ data: await conversations.setRole(getAuth(res).userId, id, userId, role) });
  }));

  routes.delete('/conversations/:id/members/:userId', requireAuth, withInput(s.memberParams, ['params'], async (input, res) => {
    const { id, userId } = input;
    await conversations.removeMember(getAuth(res).userId, id, userId);
    res.status(204).end();
  }));

  routes.post('/conversations/:id/messages', requireAuth, withInput({ ...s.conversationIdParam, ...s.sendBody }, ['params', 'body'], async (input, res) => {
    const { id, ...body } = input;
    res.status(201).json({ data: await messages.send(getAuth(res).userId, id, body) });
  }));

  routes.get('/conversations/:id/messages', requireAuth, withInput({ ...s.conversationIdParam, ...s.listMessagesSchema }, ['params', 'query'], async (input, res) => {
    const { id, ...query } = input;
    res.json(await messages.list(getAuth(res).userId, id, query));
  }));

  routes.post('/conversations/:id/read', requireAuth, withInput({ ...s.conversationIdParam, ...s.readBody }, ['params', 'body'], async (input, res) => {
    const { id, ...upTo } = input;
    res.json({ data: await receipts.markRead(getAuth(res).userId, id, upTo) });
  }));

  routes.patch('/messages/:id', requireAuth, withInput({ ...s.messageIdParam, ...s.editSchema }, ['params', 'body'], async (input, res) => {
    const { id, text } = input;
    res.json({ data: await changes.edit(getAuth(res).userId, id, text) });
  }));

  routes.delete('/messages/:id', requireAuth, withInput(s.messageIdParam, ['params'], async (input, res) => {
    res.json({ data: await changes.remove(getAuth(res).userId, input.id) });
  }));

  routes.post('/messages/:id/reactions', requireAuth, withInput({ ...s.messageIdParam, ...s.reactionBody }, ['params', 'body'], async (input, res) => {
    const { id, emoji } = input;
    res.json({ data: await changes.react(getAuth(res).userId, id, emoji) });
  }));

  routes.delete('/messages/:id/reactions', requireAuth, withInput({ ...s.messageIdParam, ...s.reactionQuery }, ['params', 'query'], async (input, res) => {
    const { id, emoji } = input;
    res.json({ data: await changes.unreact(getAuth(res).userId, id, emoji) });
  }));

  routes.get('/sync', requireAuth, withInput(s.syncSchema, ['query'], async (input, res) => {
    res.json({ data: await sync.sync(getAuth(res).userId, input) });
  }));

  return routes;
}
