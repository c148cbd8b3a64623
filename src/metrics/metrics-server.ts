/**
 * Serving a registry over HTTP in Prometheus' text format: a request handler the dashboard
 * can mount on its own server, and a small server of its own for `zoho-attach worker --metrics-port`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listen } from '../shared/http-server.js';
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
    else
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`metrics are at ${METRICS_PATH}\n`);
  });
  // Prometheus keeps its scrape connection alive: close() ends it rather than wait for it.
  const listening = await listen(server, options.port, host);
  return { url: `${listening.origin}${METRICS_PATH}`, port: listening.port, close: listening.close };
}
