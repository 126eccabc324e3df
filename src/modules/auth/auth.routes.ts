import type { Request, RequestHandler } from 'express';
import { createModuleRouter } from '../../platform/http/router';
import { validate } from '../../platform/http/validate';
import { getAuth } from '../../platform/auth-context';
import { updateMeSchema, updatePreferencesSchema, type ProfileService, type ProfilePatch, type PreferencesPatch } from '../users';
import type { AuthService } from './auth.service';
import type { AccountService } from './account.service';
import type { EmailTokensService } from './email-tokens.service';
import type { DeviceInfo, SessionsService } from './sessions.service';
import {
  changePasswordSchema,
  emailOnlySchema,
  loginSchema,
  refreshSchema,
  registerSchema,
  resetPasswordSchema,
  sessionIdParamSchema,
  verifyEmailSchema,
} from './auth.schemas';

export interface AuthRouterDeps {
  auth: AuthService;
  account: AccountService;
  emailTokens: EmailTokensService;
  sessions: SessionsService;
  profiles: ProfileService;
  requireAuth: RequestHandler;
  /** The tighter budget for the credential and email-link routes. */
  authLimit: RequestHandler;
}

function device(req: Request, name?: string): DeviceInfo {
  const userAgent = req.get('user-agent');
  return { name: name ?? null, userAgent: userAgent ? userAgent.slice(0, 300) : null, ip: req.ip ?? null };
}

export function createAuthRouter(deps: AuthRouterDeps) {
  const routes = createModuleRouter('/api/auth');
  const { requireAuth, authLimit } = deps;

  routes.post('/register', authLimit, validate(registerSchema), async (req, res) => {
    const input = res.locals.input as { email: string; password: string; name: string; phone?: string; role?: 'user' | 'vendor'; deviceName?: string };
    const result = await deps.auth.register(input, device(req, input.deviceName));
    res.status(201).json({ data: result });
  });

  routes.post('/login', authLimit, validate(loginSchema), async (req, res) => {
    const input = res.locals.input as { email: string; password: string; deviceName?: string };
    res.json({ data: await deps.auth.login(input, device(req, input.deviceName)) });
  });

  routes.post('/refresh', validate(refreshSchema), async (req, res) => {
    const input = res.locals.input as { refreshToken: string; deviceName?: string };
    res.json({ data: await deps.sessions.refresh(input.refreshToken, device(req, input.deviceName)) });
  });

  routes.post('/logout', requireAuth, async (_req, res) => {
    const auth = getAuth(res);
    await deps.sessions.revokeOwn(auth.userId, auth.sessionId);
    res.status(204).end();
  });

  routes.post('/logout-all', requireAuth, async (_req, res) => {
    await deps.sessions.revokeAll(getAuth(res).userId, 'logout_all');
    res.status(204).end();
  });

  routes.post('/verify-email', authLimit, validate(verifyEmailSchema), async (_req, res) => {
    await deps.account.verifyEmail((res.locals.input as { token: string }).token);
    res.json({ data: { emailVerified: true } });
  });

  // Same answer whether or not the email exists or is already verified.
  routes.post('/resend-verification', authLimit, validate(emailOnlySchema), async (_req, res) => {
    await deps.emailTokens.resendVerification((res.locals.input as { email: string }).email);
    res.status(202).json({ data: { accepted: true } });
  });

  routes.post('/forgot-password', authLimit, validate(emailOnlySchema), async (_req, res) => {
    await deps.emailTokens.sendReset((res.locals.input as { email: string }).email);
    res.status(202).json({ data: { accepted: true } });
  });

  routes.post('/reset-password', authLimit, validate(resetPasswordSchema), async (_req, res) => {
    const input = res.locals.input as { token: string; password: string };
    await deps.account.resetPassword(input.token, input.password);
    res.json({ data: { passwordReset: true } });
  });

  routes.get('/me', requireAuth, async (_req, res) => {
    res.json({ data: await deps.profiles.getMe(getAuth(res).userId) });
  });

  routes.patch('/me', requireAuth, validate(updateMeSchema), async (_req, res) => {
    res.json({ data: await deps.profiles.updateMe(getAuth(res).userId, res.locals.input as ProfilePatch) });
  });

  routes.patch('/me/preferences', requireAuth, validate(updatePreferencesSchema), async (_req, res) => {
    res.json({ data: await deps.profiles.updatePreferences(getAuth(res).userId, res.locals.input as PreferencesPatch) });
  });

  routes.post('/change-password', requireAuth, authLimit, validate(changePasswordSchema), async (_req, res) => {
    const auth = getAuth(res);
    const input = res.locals.input as { currentPassword: string; newPassword: string };
    await deps.account.changePassword(auth.userId, auth.sessionId, input.currentPassword, input.newPassword);
    res.json({ data: { passwordChanged: true } });
  });

  routes.get('/sessions', requireAuth, async (_req, res) => {
    const auth = getAuth(res);
    res.json({ data: await deps.sessions.list(auth.userId, auth.sessionId) });
  });

  routes.delete('/sessions/:id', requireAuth, validate(sessionIdParamSchema, ['params']), async (_req, res) => {
    await deps.sessions.revokeDevice(getAuth(res).userId, (res.locals.input as { id: string }).id);
    res.status(204).end();
  });

  return routes;
}
