import { AppError } from '../../platform/errors';

/** The admin module's own codes (listed in docs/openapi/admin.yaml). */
export const ADMIN_ERROR_CODES = ['SUPER_ADMIN_REQUIRED', 'OWN_ACCOUNT', 'ANALYTICS_UNAVAILABLE'] as const;
export type AdminErrorCode = (typeof ADMIN_ERROR_CODES)[number];

export const adminErrors = {
  /** Granting, removing or acting on an admin role takes a super_admin. */
  superAdminRequired: () => new AppError('SUPER_ADMIN_REQUIRED', 'Only a super_admin may grant, remove or act on an admin role', 403),
  /** Nobody changes their own role or suspends themselves. */
  ownAccount: () => new AppError('OWN_ACCOUNT', 'You may not do this to your own account', 403),
  analyticsUnavailable: () => new AppError('ANALYTICS_UNAVAILABLE', 'Analytics are off on this server (no PostgreSQL)', 503),
};
