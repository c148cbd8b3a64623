/**
 * How a row is retried, described once. Two layers, no more:
 * 1. inside one attempt, a few quick retries of transient faults (a fresh body every time);
 * 2. then BullMQ's attempts with exponential backoff and jitter.
 * Besides those, the Zoho client answers a 401 INVALID_TOKEN by refreshing the shared token
 * and sending the call once more (`zoho/client.ts`), and a 429 or a systemic pause parks the
 * job without spending an attempt (see decide-outcome.ts).
 */
import type { QueueConfig } from '../config/config.js';

/** Every number of the retry policy. */
export interface RetryPolicy {
  /**
   * Attempts per row before a transient failure makes it a dead letter (`ZOHO_ATTACH_ATTEMPTS`).
   * @defaultValue 8
   */
  attempts: number;
  /**
   * Base of BullMQ's exponential backoff between attempts, in ms (`ZOHO_ATTACH_BACKOFF_MS`).
   * @defaultValue 2000
   */
  backoffMs: number;
  /**
   * Share of each backoff delay that is random, so that rows failing together do not retry together.
   * @defaultValue 0.5
   */
  backoffJitter: number;
  /**
   * Quick retries of a transient fault inside one attempt, before BullMQ's backoff takes over.
   * @defaultValue 2
   */
  quickRetries: number;
  /**
   * Delay before the first quick retry, in ms; it doubles for the next, with jitter.
   * @defaultValue 250
   */
  quickRetryMs: number;
  /**
   * How long a job parked by a systemic pause waits before it is looked at again (the queue is paused by then), in ms.
   * @defaultValue 5000
   */
  systemicRequeueDelayMs: number;
}

/** The policy's defaults, apart from the two read from the configuration. */
export const RETRY_DEFAULTS = {
  backoffJitter: 0.5,
  quickRetries: 2,
  quickRetryMs: 250,
  systemicRequeueDelayMs: 5_000,
} as const;

/** The retry policy of a configuration. */
export function retryPolicy(
  queue: Pick<QueueConfig, 'attempts' | 'backoffMs'>,
  overrides: Partial<RetryPolicy> = {},
): RetryPolicy {
  return { attempts: queue.attempts, backoffMs: queue.backoffMs, ...RETRY_DEFAULTS, ...overrides };
}
