/**
 * Retrying one Zoho call outside the queue (check, undo): a transient failure or a 429 is tried
 * again after a growing pause; anything else fails at once. Uploads do not use this: the queue
 * retries them (upload/retry-policy.ts).
 */
import pRetry from 'p-retry';
import { isZohoError } from './errors.js';

/** Tries after the first, 0.5 s, 1 s, 2 s, 4 s apart. */
const RETRIES = 4;

/** Runs `call`, retrying transient failures and 429s. */
export function retryZohoCall<T>(call: () => Promise<T>): Promise<T> {
  return pRetry(call, {
    retries: RETRIES,
    minTimeout: 500,
    factor: 2,
    shouldRetry: ({ error }) =>
      isZohoError(error) && (error.classification === 'transient' || error.classification === 'rate_limited'),
  });
}
