/** `zoho-attach worker [--concurrency N] [--until-idle] [--metrics-port N [--metrics-host H]]` */
import { loadConfig } from '../../config/config.js';
import type { Registry } from 'prom-client';
import {
  createMetricsRegistry,
  createQueueMetrics,
  createUploadMetrics,
  startMetricsServer,
  type MetricsServer,
  type UploadMetrics,
} from '../../metrics/index.js';
import { startUploadWorker } from '../../queue/upload-worker.js';
import { createLogger } from '../../shared/logger.js';
import { EXIT, intOption, parseOptions, UsageError, type Command } from '../command.js';
import { startProgressTicker } from '../progress-ticker.js';

/** How often `--until-idle` looks at the queue. */
const IDLE_POLL_MS = 500;

export const workerCommand: Command = {
  summary: 'run upload workers until stopped (or until the queue is idle)',
  usage: `zoho-attach worker [--concurrency N] [--until-idle] [--metrics-port N [--metrics-host H]]

  --concurrency N    uploads this process runs at once (default: ZOHO_CONCURRENCY); the global cap
                     ZOHO_CONCURRENCY still bounds all workers together
  --until-idle       exit 0 once no row is in the backlog and nothing is waiting, delayed or active (dead letters do not count)
  --metrics-port N   serve Prometheus metrics at http://HOST:N/metrics (0 picks a free port; the log says which)
  --metrics-host H   interface for the metrics endpoint (default 127.0.0.1; it has no authentication)

On a terminal it prints a progress line per batch every 5 s (done/total, uploads/s, bytes/s, ETA,
retries, 429s, dead letters) between its log lines.

Stops on SIGTERM/SIGINT after in-flight uploads finish (bounded by ZOHO_ATTACH_SHUTDOWN_TIMEOUT_MS), exit 0.`,
  async run(argv, deps) {
    const { values } = parseOptions(argv, {
      concurrency: { type: 'string' },
      'until-idle': { type: 'boolean' },
      'metrics-port': { type: 'string' },
      'metrics-host': { type: 'string' },
    });
    const concurrency = intOption('concurrency', values.concurrency, 1, 1000);
    const metricsPort = intOption('metrics-port', values['metrics-port'], 0, 65535);
    if (values['metrics-host'] !== undefined && metricsPort === undefined)
      throw new UsageError('--metrics-host needs --metrics-port');
    const config = loadConfig(deps.env, deps.cwd);
    const logger = createLogger({ level: config.logLevel });

    let metrics: { registry: Registry; uploadMetrics: UploadMetrics; server: MetricsServer } | undefined;
    if (metricsPort !== undefined) {
      const registry = createMetricsRegistry();
      // Listen before taking jobs: a port already in use fails the command before any upload starts.
      const server = await startMetricsServer({
        port: metricsPort,
        host: values['metrics-host'] ?? '127.0.0.1',
        registry,
      });
      metrics = { registry, uploadMetrics: createUploadMetrics(registry), server };
    }
    try {
      const starting = startUploadWorker({
        config,
        logger,
        ...(concurrency === undefined ? {} : { concurrency }),
        ...metrics?.uploadMetrics.workerHooks,
      });
      // Starting waits for Redis (the outage is logged meanwhile): a signal then ends it, nothing is in flight yet.
      const started = await Promise.race([starting, deps.stopSignal.then(() => undefined)]);
      if (!started) {
        // A clean stop like any other (exit 0): nothing was in flight.
        logger.warn('stopped before the worker could start (Redis did not answer)');
        return EXIT.OK;
      }
      const running = started;
      if (metrics) {
        metrics.uploadMetrics.trackInFlight(() => running.inFlight());
        createQueueMetrics(running.uploadQueue, metrics.registry);
      }
      // On a terminal, a progress line per batch every few seconds (logs and pipes get the log lines only).
      const stopProgress = deps.stdout.isTTY ? startProgressTicker(running.uploadQueue, deps.stdout) : () => {};
      logger.info(
        {
          queue: config.queue.name,
          concurrency: concurrency ?? config.queue.concurrency,
          globalConcurrency: config.queue.concurrency,
          metricsUrl: metrics?.server.url,
        },
        'worker started',
      );

      const stopReason = await Promise.race([
        deps.stopSignal.then((signal) => `signal ${signal}`),
        ...(values['until-idle']
          ? [running.uploadQueue.waitUntilIdle({ pollMs: IDLE_POLL_MS }).then(() => 'queue idle')]
          : []),
      ]);
      stopProgress();
      logger.info({ reason: stopReason }, 'worker stopping: finishing in-flight uploads');
      await running.close();
    } finally {
      // After the worker: Prometheus can still scrape while in-flight uploads finish.
      await metrics?.server.close();
    }
    logger.info('worker stopped');
    logger.flush?.();
    return EXIT.OK;
  },
};
