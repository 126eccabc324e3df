import type { Request, RequestHandler } from 'express';
import { createModuleRouter } from '../../platform/http/router';
import { withInput } from '../../platform/http/validate';
import { getAuth } from '../../platform/auth-context';
import { updateMeSchema, updatePreferencesSchema, type ProfileService } from '../users';
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

  routes.post('/register', authLimit, withInput(registerSchema, ['body'], async (input, res, req) => {
    const result = await deps.auth.register(input, device(req, input.deviceName));
    res.status(201).json({ data: result });
  }));

  routes.post('/login', authLimit, withInput(loginSchema, ['body'], async (input, res, req) => {
    res.json({ data: await deps.auth.login(input, device(req, input.deviceName)) });
  }));

  routes.post('/refresh', withInput(refreshSchema, ['body'], async (input, res, req) => {
    res.json({ data: await deps.sessions.refresh(input.refreshToken, device(req, input.deviceName)) });
  }));

  routes.post('/logout', requireAuth, async (_req, res) => {
    const auth = getAuth(res);
    await deps.sessions.revokeOwn(auth.userId, auth.sessionId);
    res.status(204).end();
  });

  routes.post('/logout-all', requireAuth, async (_req, res) => {
    await deps.sessions.revokeAll(getAuth(res).userId, 'logout_all');
    res.status(204).end();
  });

  routes.post('/verify-email', authLimit, withInput(verifyEmailSchema, ['body'], async (input, res) => {
    await deps.account.verifyEmail(input.token);
    res.json({ data: { emailVerified: true } });
  }));

  // Same answer whether or not the email exists or is already verified.
  routes.post('/resend-verification', authLimit, withInput(emailOnlySchema, ['body'], async (input, res) => {
    await deps.emailTokens.resendVerification(input.email);
    res.status(202).json({ data: { accepted: true } });
  }));

  routes.post('/forgot-password', authLimit, withInput(emailOnlySchema, ['body'], async (input, res) => {
    await deps.emailTokens.sendReset(input.email);
    res.status(202).json({ data: { accepted: true } });
  }));

  routes.post('/reset-password', authLimit, withInput(resetPasswordSchema, ['body'], async (input, res) => {
    await deps.account.resetPassword(input.token, input.password);
    res.json({ data: { passwordReset: true } });
  }));

  routes.get('/me', requireAuth, async (_req, res) => {
    res.json({ data: await deps.profiles.getMe(getAuth(res).userId) });
  });

  routes.patch('/me', requireAuth, withInput(updateMeSchema, ['body'], async (input, res) => {
    res.json({ data: await deps.profiles.updateMe(getAuth(res).userId, input) });
  }));

  routes.patch('/me/preferences', requireAuth, withInput(updatePreferencesSchema, ['body'], async (input, res) => {
    res.json({ data: await deps.profiles.updatePreferences(getAuth(res).userId, input) });
  }));

  routes.post('/change-password', requireAuth, authLimit, withInput(changePasswordSchema, ['body'], async (input, res) => {
    const auth = getAuth(res);
    await deps.account.changePassword(auth.userId, auth.sessionId, input.currentPassword, input.newPassword);
    res.json({ data: { passwordChanged: true } });
  }));

  routes.get('/sessions', requireAuth, async (_req, res) => {
    const auth = getAuth(res);
    res.json({ data: await deps.sessions.list(auth.userId, auth.sessionId) });
  });

  routes.delete('/sessions/:id', requireAuth, withInput(sessionIdParamSchema, ['params'], async (input, res) => {
    await deps.sessions.revokeDevice(getAuth(res).userId, input.id);
    res.status(204).end();
  }));

  return routes;
}
