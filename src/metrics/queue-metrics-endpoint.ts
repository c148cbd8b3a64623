/**
 * A metrics endpoint for a process that watches the queue without uploading (the dashboard):
 * the queue gauges and the process metrics, on a connection of its own.
 */
import type { Config } from '../config/config.js';
import { UploadQueue } from '../queue/upload-queue.js';
import { createMetricsRegistry } from './metrics-registry.js';
import { startMetricsServer, type MetricsServer } from './metrics-server.js';
import { createQueueMetrics } from './queue-metrics.js';

/** Serves the queue's gauges at `http://host:port/metrics`. `close()` is idempotent. */
export async function startQueueMetricsEndpoint(options: {
  config: Config;
  port: number;
  host: string;
}): Promise<MetricsServer> {
  const uploadQueue = await UploadQueue.open(options.config);
  const registry = createMetricsRegistry();
  createQueueMetrics(uploadQueue, registry);
  let server: MetricsServer;
  try {
    server = await startMetricsServer({ port: options.port, host: options.host, registry });
  } catch (error) {
    await uploadQueue.close();
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    ...server,
    close() {
      closing ??= server.close().then(() => uploadQueue.close());
      return closing;
    },
  };
}
