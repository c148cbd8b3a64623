/**
 * What one worker process counts about its uploads, fed by {@link startUploadWorker}'s hooks.
 *
 * Labels carry only bounded, non-identifying values (an outcome, an error code): never a
 * batch, record id, file name or anything from a row (each would make a series per row),
 * and never a token or secret.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { UPLOAD_OUTCOME_RESULTS } from '../queue/upload-processor.js';
import type { UploadWorkerOptions } from '../queue/upload-worker.js';

/**
 * Upload latency buckets, in seconds: a small file on a quick link takes tens of
 * milliseconds, a 100 MB file or a slow Zoho up to the two-minute request timeout.
 */
const UPLOAD_DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120];

/** The hooks {@link createUploadMetrics} gives to `startUploadWorker`. */
export type UploadMetricsHooks = Required<
  Pick<UploadWorkerOptions, 'onOutcome' | 'onTokenRefresh' | 'onTokenRefreshFailed'>
>;

/** A worker's upload metrics. */
export interface UploadMetrics {
  /** Spread into `startUploadWorker`'s options. */
  readonly workerHooks: UploadMetricsHooks;
  /**
   * Where `zoho_attach_process_uploads_in_flight` reads from on each scrape (the running
   * worker's `inFlight`); it reads 0 until this is called.
   */
  trackInFlight(count: () => number): void;
}

/**
 * Registers the per-process upload metrics on `registry`:
 * - `zoho_attach_uploads_total{outcome}` (counter): finished attempts by outcome
 * - `zoho_attach_uploaded_bytes_total` (counter): bytes of files posted successfully
 * - `zoho_attach_upload_duration_seconds{outcome}` (histogram): how long attempts took
 * - `zoho_attach_rate_limited_total` (counter): attempts held back by Zoho's rate limit
 * - `zoho_attach_retries_total` (counter): attempts that failed transiently and will be retried
 * - `zoho_attach_token_refreshes_total` (counter): refreshes of the shared OAuth token done by this process
 * - `zoho_attach_token_refresh_failures_total{code}` (counter): failed refreshes, by error code
 * - `zoho_attach_process_uploads_in_flight` (gauge): uploads this process is running now
 */
export function createUploadMetrics(registry: Registry): UploadMetrics {
  const registers = [registry];
  const uploads = new Counter({
    name: 'zoho_attach_uploads_total',
    help: 'Finished upload attempts, by outcome (uploaded, adopted, already-uploaded, retry, dead, rate-limited, paused, deferred)',
    labelNames: ['outcome'],
    registers,
  });
  const uploadedBytes = new Counter({
    name: 'zoho_attach_uploaded_bytes_total',
    help: 'Bytes of files posted to Zoho successfully (adopted and already-uploaded rows were sent by an earlier attempt and are not counted again)',
    registers,
  });
  const duration = new Histogram({
    name: 'zoho_attach_upload_duration_seconds',
    help: 'How long an upload attempt took, from taking the job to its outcome, by outcome',
    labelNames: ['outcome'],
    buckets: UPLOAD_DURATION_BUCKETS,
    registers,
  });
  const rateLimited = new Counter({
    name: 'zoho_attach_rate_limited_total',
    help: "Attempts held back by Zoho's rate limit (429 TOO_MANY_REQUESTS, or the token endpoint's refresh throttle); each pauses every worker",
    registers,
  });
  const retries = new Counter({
    name: 'zoho_attach_retries_total',
    help: 'Attempts that failed transiently (5xx, network, timeout) and will be retried with backoff',
    registers,
  });
  const tokenRefreshes = new Counter({
    name: 'zoho_attach_token_refreshes_total',
    help: 'Refreshes of the shared OAuth access token done by this process (Zoho allows 10 per 10 minutes per refresh token)',
    registers,
  });
  const tokenRefreshFailures = new Counter({
    name: 'zoho_attach_token_refresh_failures_total',
    help: 'Failed refreshes of the shared OAuth access token by this process, by error code',
    labelNames: ['code'],
    registers,
  });
  let inFlightSource: () => number = () => 0;
  new Gauge({
    name: 'zoho_attach_process_uploads_in_flight',
    help: 'Uploads this worker process is running now (zoho_attach_uploads_in_flight counts all workers)',
    registers,
    collect() {
      this.set(inFlightSource());
    },
  });

  // Every value of the `outcome` label, created at zero so rates work from the first scrape.
  for (const outcome of UPLOAD_OUTCOME_RESULTS) {
    uploads.labels(outcome).inc(0);
    duration.zero({ outcome });
  }

  return {
    workerHooks: {
      onOutcome(outcome) {
        uploads.labels(outcome.result).inc();
        duration.labels(outcome.result).observe(outcome.durationMs / 1000);
        if (outcome.result === 'uploaded' && outcome.bytes !== undefined) uploadedBytes.inc(outcome.bytes);
        if (outcome.result === 'rate-limited') rateLimited.inc();
        if (outcome.result === 'retry') retries.inc();
      },
      onTokenRefresh() {
        tokenRefreshes.inc();
      },
      onTokenRefreshFailed(error) {
        // Error codes are a fixed vocabulary (REFRESH_INVALID_CODE, TIMEOUT, …): a bounded label.
        tokenRefreshFailures.labels(error.code).inc();
      },
    },
    trackInFlight(count) {
      inFlightSource = count;
    },
  };
}
