/**
 * Prometheus metrics: per-process upload counters for workers, queue gauges for anything
 * with an open queue (worker or dashboard), and an HTTP endpoint to serve them.
 *
 * @example
 * const registry = createMetricsRegistry();
 * const uploadMetrics = createUploadMetrics(registry);
 * const running = await startUploadWorker({ config, logger, ...uploadMetrics.workerHooks });
 * uploadMetrics.trackInFlight(running.inFlight);
 * createQueueMetrics(running.uploadQueue, registry);
 * const server = await startMetricsServer({ port: 9464, registry });
 */
export { createMetricsRegistry } from './metrics-registry.js';
export {
  createMetricsHandler,
  METRICS_PATH,
  startMetricsServer,
  type MetricsServer,
  type MetricsServerOptions,
} from './metrics-server.js';
export { createQueueMetrics } from './queue-metrics.js';
export { startQueueMetricsEndpoint } from './queue-metrics-endpoint.js';
export { createUploadMetrics, type UploadMetrics, type UploadMetricsHooks } from './upload-metrics.js';
