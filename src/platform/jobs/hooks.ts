import type { Counter } from 'prom-client';
import type { Logger } from '../logger';
import type { JobContext } from './types';

export type AttemptOutcome = 'completed' | 'retrying' | 'failed';

/** What both modes report after every attempt: a metric, and a log line when it did not succeed. */
export interface JobHooks {
  attempt(queue: string, outcome: AttemptOutcome, err?: unknown, job?: JobContext): void;
}

export function createJobHooks(logger: Logger, metrics?: { jobAttempts: Counter<'queue' | 'outcome'> }): JobHooks {
  return {
    attempt(queue, outcome, err, job) {
      metrics?.jobAttempts.inc({ queue, outcome });
      if (outcome === 'completed') return;
      const fields = {
        queue,
        key: job?.key,
        attempt: job?.attempt,
        maxAttempts: job?.maxAttempts,
        error: err instanceof Error ? err.message : String(err),
      };
      if (outcome === 'failed') logger.error('Job failed for good; it stays in the failed set', fields);
      else logger.warn('Job attempt failed; it will be retried', fields);
    },
  };
}
