/** Starting and stopping the dashboard's HTTP server. */
import { createServer } from 'node:http';
import { listen } from '../shared/http-server.js';
import { UploadQueue } from '../queue/upload-queue.js';
import { createDashboardApp } from './express-app.js';
import {
  DASHBOARD_DEFAULTS,
  DASHBOARD_ENV,
  DashboardStartError,
  type DashboardOptions,
  type RunningDashboard,
} from './options.js';
import { createCsrfToken } from './security/csrf.js';
import { isLoopbackHost } from './security/loopback.js';

/** The shortest password the dashboard accepts when it listens beyond loopback (brute force over a network). */
export const MIN_REMOTE_PASSWORD_LENGTH = 12;

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
  if (!loopback && options.credentials && options.credentials.password.length < MIN_REMOTE_PASSWORD_LENGTH) {
    throw new DashboardStartError(
      'DASHBOARD_CREDENTIALS_REQUIRED',
      `the dashboard would listen on ${host}, beyond loopback, with a ${options.credentials.password.length}-character password: ${DASHBOARD_ENV.password} must be at least ${MIN_REMOTE_PASSWORD_LENGTH} characters there`,
    );
  }
  const readOnly = options.readOnly ?? false;
  const uploadQueue = await UploadQueue.open(options.config);
  try {
    const csrfToken = createCsrfToken();
    const app = createDashboardApp({
      context: { uploadQueue, readOnly, csrfToken, now: Date.now },
      policy: {
        credentials: options.credentials,
        readOnly,
        csrfToken,
        loopbackHostsOnly: loopback && !options.credentials,
      },
      logger: options.logger,
    });
    const server = createServer(app);
    const port = options.port ?? DASHBOARD_DEFAULTS.port;
    const listening = await listen(server, port, host).catch((error: NodeJS.ErrnoException) => {
      throw new DashboardStartError(
        'DASHBOARD_LISTEN_FAILED',
        `cannot listen on ${host}:${port}: ${error.code ?? error.message}`,
        { cause: error },
      );
    });
    let closing: Promise<void> | undefined;
    return {
      url: listening.origin,
      close() {
        closing ??= (async () => {
          await listening.close();
          await uploadQueue.close();
        })();
        return closing;
      },
    };
  } catch (error) {
    // Nothing listens when we get here (listening is the last step that can fail).
    await uploadQueue.close();
    throw error;
  }
}
