import type { EnvReader } from '../../platform/config';

/** The admin module's settings, read from ADMIN_* variables. */
export interface AdminConfig {
  /** Rows one CSV export of the audit trail may hold at most (narrow the filters for more). */
  auditExportMaxRows: number;
  /** The longest period a dashboard or analytics read may cover. */
  maxPeriodDays: number;
  /** How often failed jobs are copied into the system events (once each). */
  jobWatchEveryMs: number;
  /** How often each process probes MongoDB, PostgreSQL and Redis for the system events' outages and recoveries. */
  dependencyCheckEveryMs: number;
}

export function readAdminConfig(read: EnvReader): AdminConfig {
  return {
    auditExportMaxRows: read.int('ADMIN_AUDIT_EXPORT_MAX_ROWS', 50_000, 1, 1_000_000),
    maxPeriodDays: read.int('ADMIN_MAX_PERIOD_DAYS', 400, 1, 3_660),
    jobWatchEveryMs: read.int('ADMIN_JOB_WATCH_EVERY_MS', 60_000, 1_000, 3_600_000),
    dependencyCheckEveryMs: read.int('ADMIN_DEPENDENCY_CHECK_EVERY_MS', 10_000, 100, 600_000),
  };
}
