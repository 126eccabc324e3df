/** The job runner's contract, the same with Redis (BullMQ) and without it (in-process). */

export interface RetryPolicy {
  /** Attempts in all, the first one included; 1 means no retry. */
  attempts: number;
  /** Delay before the first retry; each further retry doubles it, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** 0..1: how much of each delay is randomised away, so retries of a burst do not stay in step. */
  jitter: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 1_000, maxDelayMs: 5 * 60_000, jitter: 0.5 };

export interface JobContext {
  /** The business key the job was enqueued with. */
  key: string;
  queue: string;
  /** 1 for the first run, 2 for the first retry, ... */
  attempt: number;
  maxAttempts: number;
}

/** Runs a job; throwing (or rejecting) schedules a retry until the attempts are spent. */
export type JobHandler<T> = (data: T, job: JobContext) => Promise<void> | void;

export interface QueueOptions {
  /** Jobs of this queue run at once on this process. */
  concurrency?: number;
  retry?: Partial<RetryPolicy>;
}

export interface EnqueueOptions {
  delayMs?: number;
}

export interface JobQueue<T> {
  readonly name: string;
  /**
   * Adds a job keyed by a business id. While a job with that key is known (waiting, delayed,
   * running, completed within the dedupe window, or failed) another enqueue of it changes nothing.
   */
  enqueue(key: string, data: T, options?: EnqueueOptions): Promise<void>;
}

export interface ScheduleOptions {
  everyMs: number;
}

export interface Tick {
  /** The slot this run is for (a multiple of everyMs in Redis mode's scheduler, or the computed due time). */
  scheduledAt: Date;
  /** The runner's clock when the run started. */
  now: Date;
}

export type ScheduleHandler = (tick: Tick) => Promise<void> | void;

export interface PendingRecord<T> {
  key: string;
  data: T;
}

export interface ReconcileOptions<T> {
  everyMs: number;
  /** Records still pending past their deadline at `now`; each is enqueued again by its key. */
  findPending(now: Date): Promise<PendingRecord<T>[]>;
}

/** A job that spent its attempts, as an admin API would list it. */
export interface FailedJob {
  queue: string;
  key: string;
  data: unknown;
  attemptsMade: number;
  failedReason: string;
  createdAt: string;
  failedAt: string | null;
}

export interface JobRunnerStatus {
  mode: 'redis' | 'in-process';
  running: boolean;
  queues: string[];
  schedules: string[];
  /** Set in the in-process mode: what it does not guarantee. */
  note?: string;
}

/** Thrown by a handler when retrying cannot help (bad data): the job goes to the failed set at once. */
export class PermanentJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentJobError';
  }
}

export interface JobBackend {
  readonly mode: JobRunnerStatus['mode'];
  queue<T>(name: string, handler: JobHandler<T>, options: { concurrency: number; retry: RetryPolicy }): JobQueue<T>;
  schedule(name: string, options: ScheduleOptions, handler: ScheduleHandler): void;
  listFailed(queue: string | undefined, limit: number): Promise<FailedJob[]>;
  /** Moves a failed job back to waiting with its attempts reset; false when no failed job has that queue and key. */
  retryFailed(queue: string, key: string): Promise<boolean>;
  start(): Promise<void>;
  close(timeoutMs: number): Promise<void>;
  status(): JobRunnerStatus;
}
