/**
 * Starting and stopping the tool's own HTTP servers (the fake Zoho, `/metrics`, the dashboard)
 * one way: listen, and report a port in use as an error rather than an event; close once,
 * ending keep-alive connections (a browser's, Prometheus's) instead of waiting for them.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A server that listens. */
export interface ListeningServer {
  /** `http://host:port`, an IPv6 host in brackets. */
  origin: string;
  port: number;
  /** Stops accepting connections and ends the open ones. Idempotent. */
  close: () => Promise<void>;
}

/**
 * Makes `server` listen on `host:port` (port 0 picks a free one).
 * @throws the server's error (EADDRINUSE, EACCES, …) when it cannot listen
 */
export async function listen(server: Server, port: number, host: string): Promise<ListeningServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  let closing: Promise<void> | undefined;
  const bound = (server.address() as AddressInfo).port;
  return {
    origin: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    port: bound,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
