/** Starting and stopping the dashboard's HTTP server. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/config.js';
import { UploadQueue } from '../queue/upload-queue.js';
import type { Logger } from '../shared/logger.js';
import { createDashboardApp } from './express-app.js';
import { ProgressSampler } from './progress-sampler.js';
import type { DashboardCredentials } from './security/basic-auth.js';
import { createCsrfToken } from './security/csrf.js';
import { isLoopbackHost } from './security/loopback.js';

/**
 * The environment variables the `dashboard` command reads the credentials from. They are
 * named here only so that errors can tell the operator what to set; nothing in this module
 * reads the environment.
 */
export const DASHBOARD_ENV = {
  user: 'ZOHO_ATTACH_DASHBOARD_USER',
  password: 'ZOHO_ATTACH_DASHBOARD_PASSWORD',
  readOnly: 'ZOHO_ATTACH_DASHBOARD_READ_ONLY',
} as const;

/** Options for {@link startDashboard}. */
export interface DashboardOptions {
  /** Where the queue is (Redis, queue name) and its limits. */
  config: Config;
  /** Address to listen on. Beyond loopback, `credentials` are required. @defaultValue '127.0.0.1' */
  host?: string;
  /** Port to listen on; 0 picks a free one (see {@link RunningDashboard.url}). @defaultValue 3000 */
  port?: number;
  /** Basic-auth user and password; when set, required on every request, loopback included. */
  credentials?: DashboardCredentials | undefined;
  /** Refuse every write: retry, pause, resume and bull-board's actions answer 403. @defaultValue false */
  readOnly?: boolean;
  /** Time between the samples the rates and the rate chart are computed from. @defaultValue 5000 */
  sampleIntervalMs?: number;
  /** Where request failures are logged. */
  logger?: Logger;
}

/** A running dashboard. */
export interface RunningDashboard {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  /** Stops the server, the sampler and the queue connection. Idempotent. */
  close(): Promise<void>;
}

/** Why the dashboard refused to start; `code` is stable. */
export class DashboardStartError extends Error {
  override readonly name = 'DashboardStartError';
  constructor(
    readonly code: 'DASHBOARD_CREDENTIALS_REQUIRED' | 'DASHBOARD_LISTEN_FAILED',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`[${code}] ${message}`, options);
  }
}

/** Defaults of {@link DashboardOptions}. */
export const DASHBOARD_DEFAULTS = { host: '127.0.0.1', port: 3000, sampleIntervalMs: 5_000 } as const;

/**
 * Starts the dashboard: bull-board under /queues, the overview, dead letters and Zoho health
 * pages, and their JSON API.
 * @throws {DashboardStartError} when asked to listen beyond loopback without credentials, or when the port cannot be bound
 */
export async function startDashboard(options: DashboardOptions): Promise<RunningDashboard> {
  const host = options.host ?? DASHBOARD_DEFAULTS.host;
  const loopback = isLoopbackHost(host);
  if (!loopback && !options.credentials) {
    throw new DashboardStartError(
      'DASHBOARD_CREDENTIALS_REQUIRED',
      `the dashboard would listen on ${host}, beyond loopback, where anyone who reaches it could retry, pause and read jobs: set ${DASHBOARD_ENV.user} and ${DASHBOARD_ENV.password} (basic auth), or listen on 127.0.0.1`,
    );
  }
  const readOnly = options.readOnly ?? false;
  const uploadQueue = await UploadQueue.open(options.config);
  const sampler = new ProgressSampler(uploadQueue, {
    intervalMs: options.sampleIntervalMs ?? DASHBOARD_DEFAULTS.sampleIntervalMs,
    onError: (error) => options.logger?.warn({ err: error }, 'dashboard could not sample the queue status'),
  });
  let server: Server | undefined;
  try {
    await sampler.start();
    const csrfToken = createCsrfToken();
    const app = createDashboardApp({
      context: { uploadQueue, sampler, readOnly, csrfToken, now: Date.now },
      policy: { credentials: options.credentials, readOnly, csrfToken, loopbackHostsOnly: loopback && !options.credentials },
      logger: options.logger,
    });
    server = createServer(app);
    const port = await listen(server, options.port ?? DASHBOARD_DEFAULTS.port, host);
    const running = server;
    let closing: Promise<void> | undefined;
    return {
      url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
      close() {
        closing ??= (async () => {
          await closeServer(running);
          await sampler.stop();
          await uploadQueue.close();
        })();
        return closing;
      },
    };
  } catch (error) {
    await sampler.stop();
    await uploadQueue.close();
    throw error;
  }
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(new DashboardStartError('DASHBOARD_LISTEN_FAILED', `cannot listen on ${host}:${port}: ${error.code ?? error.message}`, { cause: error }));
    });
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

/** Stops accepting connections and ends the open ones (a browser's keep-alive, a download in progress). */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
