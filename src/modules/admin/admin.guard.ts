import type { Role } from '../../platform/auth-context';
import { errors } from '../../platform/errors';

export const ADMIN_ROLES: readonly Role[] = ['admin', 'super_admin'];

/** Who is acting, and from where: every admin service call takes it first, and the audit trail records it. */
export interface AdminActor {
  userId: string;
  role: Role;
  sessionId: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
}

export function assertAdmin(actor: unknown): asserts actor is AdminActor {
  const role = (actor as { role?: unknown } | null | undefined)?.role;
  if (typeof role !== 'string' || !ADMIN_ROLES.includes(role as Role)) throw errors.forbidden();
}

type AnyFn = (...args: never[]) => unknown;

/**
 * The service-side half of the role check: every method of `service` refuses (FORBIDDEN) unless its
 * first argument is an admin actor, whatever route or job calls it. The router checks the role too.
 */
export function guardService<T extends Record<string, AnyFn>>(service: T): T {
  const guarded: Record<string, AnyFn> = {};
  for (const [name, method] of Object.entries(service)) {
    guarded[name] = (async (...args: never[]) => {
      assertAdmin(args[0]);
      return method(...args);
    }) as AnyFn;
  }
  return guarded as T;
}
