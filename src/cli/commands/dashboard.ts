/** `zoho-attach dashboard [--port N] [--host H] [--read-only] [--metrics-port N [--metrics-host H]]` */
import { ConfigError, loadConfig } from '../../config/config.js';
import { DASHBOARD_DEFAULTS, DASHBOARD_ENV } from '../../dashboard/options.js';
import type { DashboardCredentials } from '../../dashboard/security/basic-auth.js';
import { isLoopbackHost } from '../../dashboard/security/loopback.js';
import { createLogger } from '../../shared/logger.js';
import { EXIT, intOption, parseOptions, println, UsageError, type Command } from '../command.js';

/** What the dashboard reads from the environment (besides the shared configuration). */
interface DashboardEnv {
  credentials: DashboardCredentials | undefined;
  readOnly: boolean;
}

export const dashboardCommand: Command = {
  summary: 'serve the web dashboard: bull-board, batch progress, dead letters, Zoho health',
  usage: `zoho-attach dashboard [--port N] [--host H] [--read-only] [--metrics-port N [--metrics-host H]]

  --port N       port to listen on (default ${DASHBOARD_DEFAULTS.port}; 0 picks a free one)
  --host H       address to listen on (default ${DASHBOARD_DEFAULTS.host}); beyond loopback the
                 credentials below are required
  --read-only    refuse every write: retry, pause, resume, bull-board's actions (also
                 ${DASHBOARD_ENV.readOnly}=true)
  --metrics-port N  serve Prometheus metrics (queue depth by state, in flight, paused, process
                 metrics) at http://HOST:N/metrics; 0 picks a free port
  --metrics-host H  interface for the metrics endpoint (default 127.0.0.1; it has no authentication)

Environment:
  ${DASHBOARD_ENV.user}, ${DASHBOARD_ENV.password}
                 basic-auth credentials; when set, required on every request (loopback too)

Pages: / (overview), /dead-letters, /health, /queues (bull-board); JSON: /api/status,
/api/dead-letters. Basic auth over plain HTTP is readable on the wire: beyond loopback, put the
dashboard behind a TLS reverse proxy. Runs until Ctrl-C.`,
  async run(argv, deps) {
    const { values } = parseOptions(argv, {
      port: { type: 'string' },
      host: { type: 'string' },
      'read-only': { type: 'boolean' },
      'metrics-port': { type: 'string' },
      'metrics-host': { type: 'string' },
    });
    const port = intOption('port', values.port, 0, 65535) ?? DASHBOARD_DEFAULTS.port;
    const metricsPort = intOption('metrics-port', values['metrics-port'], 0, 65535);
    if (values['metrics-host'] !== undefined && metricsPort === undefined)
      throw new UsageError('--metrics-host needs --metrics-port');
    const host = values.host ?? DASHBOARD_DEFAULTS.host;
    const env = readDashboardEnv(deps.env);
    const config = loadConfig(deps.env, deps.cwd);
    const logger = createLogger({ level: config.logLevel });
    const readOnly = (values['read-only'] ?? false) || env.readOnly;
    // Loaded here, not at the top: express and bull-board would slow every other command's start.
    const { startDashboard } = await import('../../dashboard/start-dashboard.js');
    const dashboard = await startDashboard({ config, host, port, credentials: env.credentials, readOnly, logger });
    const metrics =
      metricsPort === undefined
        ? undefined
        : await (
            await import('../../metrics/index.js')
          ).startQueueMetricsEndpoint({ config, port: metricsPort, host: values['metrics-host'] ?? '127.0.0.1' });
    println(deps.stdout, `dashboard listening at ${dashboard.url}/${readOnly ? ' (read-only)' : ''}`);
    if (metrics) println(deps.stdout, `metrics at ${metrics.url}`);
    println(
      deps.stdout,
      env.credentials
        ? `basic auth required (user "${env.credentials.user}")`
        : 'no credentials set: anyone who can reach this address may use it',
    );
    if (!isLoopbackHost(host))
      println(
        deps.stderr,
        'warning: plain HTTP beyond loopback sends the password readably; put a TLS reverse proxy in front',
      );
    await deps.stopSignal;
    await metrics?.close();
    await dashboard.close();
    logger.flush?.();
    return EXIT.OK;
  },
};

/**
 * Reads the dashboard's variables here, at the edge, rather than in the shared configuration:
 * only this command needs them. Every problem is reported at once, naming its variable.
 */
function readDashboardEnv(env: Record<string, string | undefined>): DashboardEnv {
  const problems: string[] = [];
  const read = (name: string) => {
    const value = env[name];
    return value === undefined || value === '' ? undefined : value;
  };
  const user = read(DASHBOARD_ENV.user);
  const password = read(DASHBOARD_ENV.password);
  if ((user === undefined) !== (password === undefined)) {
    problems.push(
      `${user === undefined ? DASHBOARD_ENV.user : DASHBOARD_ENV.password} is not set: set both ${DASHBOARD_ENV.user} and ${DASHBOARD_ENV.password}, or neither`,
    );
  }
  const rawReadOnly = read(DASHBOARD_ENV.readOnly)?.trim().toLowerCase();
  let readOnly = false;
  if (rawReadOnly !== undefined) {
    if (['1', 'true', 'yes', 'on'].includes(rawReadOnly)) readOnly = true;
    else if (!['0', 'false', 'no', 'off'].includes(rawReadOnly))
      problems.push(`${DASHBOARD_ENV.readOnly} "${rawReadOnly}" must be true or false`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { credentials: user !== undefined && password !== undefined ? { user, password } : undefined, readOnly };
}
