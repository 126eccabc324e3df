import type { Response } from 'express';
import type { Socket } from 'socket.io';
import { errors } from './errors';

/**
 * Who is calling. Set by the auth module's requireAuth middleware (res.locals.auth) and by its
 * socket handshake (socket.data.auth); every other module reads it through these helpers.
 */
export type Role = 'user' | 'vendor' | 'admin' | 'super_admin';

export interface AuthContext {
  userId: string;
  role: Role;
  /** The refresh-token family (sign-in) this access token belongs to. */
  sessionId: string;
}

export function getAuth(res: Response): AuthContext {
  const auth = res.locals.auth as AuthContext | undefined;
  if (!auth) throw errors.unauthenticated();
  return auth;
}

export function getSocketAuth(socket: Socket): AuthContext {
  const auth = socket.data.auth as AuthContext | undefined;
  if (!auth) throw errors.unauthenticated();
  return auth;
}

export const userRoom = (userId: string) => `user:${userId}`;
export const conversationRoom = (conversationId: string) => `conversation:${conversationId}`;
