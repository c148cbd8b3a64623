/**
 * Serving a registry over HTTP in Prometheus' text format: a request handler the dashboard
 * can mount on its own server, and a small server of its own for `zoho-attach worker --metrics-port`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** The path {@link startMetricsServer} serves metrics on. */
export const METRICS_PATH = '/metrics';

/**
 * A handler that answers GET and HEAD with the registry's metrics. Routing is the caller's:
 * mount it where metrics belong, e.g. `app.get('/metrics', createMetricsHandler(registry))`
 * (its signature is Node's, which express accepts as it is).
 */
export function createMetricsHandler(registry: Registry): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('use GET\n');
      return;
    }
    registry.metrics().then(
      (text) => {
        response.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
        response.end(request.method === 'HEAD' ? undefined : text);
      },
      (error: unknown) => {
        response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        response.end(`collecting metrics failed: ${error instanceof Error ? error.message : String(error)}\n`);
      },
    );
  };
}

/** Options of {@link startMetricsServer}. */
export interface MetricsServerOptions {
  /** TCP port; 0 picks a free one (see {@link MetricsServer.port}). */
  port: number;
  /** Interface to listen on. Metrics are unauthenticated: keep them on loopback or a private network. @defaultValue '127.0.0.1' */
  host?: string;
  registry: Registry;
}

/** A running metrics server. */
export interface MetricsServer {
  /** Where Prometheus scrapes, e.g. `http://127.0.0.1:9464/metrics`. */
  readonly url: string;
  readonly port: number;
  /** Stops listening and closes open (kept-alive) scrape connections. Idempotent. */
  close(): Promise<void>;
}

/**
 * Serves `registry` at `GET /metrics`; any other path answers 404.
 * @throws the listen error (e.g. EADDRINUSE) when the port cannot be taken
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const host = options.host ?? '127.0.0.1';
  const serveMetrics = createMetricsHandler(options.registry);
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://metrics.invalid').pathname;
    if (path === METRICS_PATH) serveMetrics(request, response);
    else response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`metrics are at ${METRICS_PATH}\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}${METRICS_PATH}`,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Prometheus keeps its scrape connection alive; without this, close() would wait for it.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
