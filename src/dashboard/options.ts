/**
 * The dashboard's options, defaults and start errors: kept apart from the server so that the
 * CLI can name them (usage, errors) without loading express and bull-board for every command.
 */
import type { Config } from '../config/config.js';
import { ZohoAttachError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { DashboardCredentials } from './security/basic-auth.js';

/**
 * The environment variables the `dashboard` command reads (at the edge, like every setting).
 * The dashboard itself only names them, in errors that tell the operator what to set.
 */
export const DASHBOARD_ENV = {
  user: 'ZOHO_ATTACH_DASHBOARD_USER',
  password: 'ZOHO_ATTACH_DASHBOARD_PASSWORD',
  readOnly: 'ZOHO_ATTACH_DASHBOARD_READ_ONLY',
} as const;

/** Options for `startDashboard`. */
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
  /** Where request failures are logged. */
  logger?: Logger;
}

/** A running dashboard. */
export interface RunningDashboard {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  /** Stops the server and the queue connection. Idempotent. */
  close(): Promise<void>;
}

/** Why the dashboard refused to start; `code` is stable. */
export class DashboardStartError extends ZohoAttachError {
  override name = 'DashboardStartError';
  declare readonly code: 'DASHBOARD_CREDENTIALS_REQUIRED' | 'DASHBOARD_LISTEN_FAILED';
  constructor(
    code: 'DASHBOARD_CREDENTIALS_REQUIRED' | 'DASHBOARD_LISTEN_FAILED',
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(code, message, options);
  }
}

/** Defaults of {@link DashboardOptions}. */
export const DASHBOARD_DEFAULTS = { host: '127.0.0.1', port: 3000 } as const;
