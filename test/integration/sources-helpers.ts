/**
 * Test plumbing for the URL source tests: real HTTP servers on loopback, and a tripwire
 * that refuses (and records) any connection to a non-loopback address, so a broken SSRF
 * guard fails the tests instead of sending packets off this machine.
 */
import dns from 'node:dns';
import http from 'node:http';
import net from 'node:net';
import ipaddr from 'ipaddr.js';

/** A server on 127.0.0.1, port 0. */
export interface TestServer {
  /** `http://127.0.0.1:PORT` */
  origin: string;
  port: number;
  /** Every request received, in order. */
  requests: http.IncomingMessage[];
  /** Closes the server and every connection it has. */
  close(): Promise<void>;
}

/** Starts an HTTP server on loopback that answers with `handler`. */
export async function startHttpServer(handler: http.RequestListener): Promise<TestServer> {
  const requests: http.IncomingMessage[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req);
    handler(req, res);
  });
  return listen(server, requests, () => server.closeAllConnections());
}

/**
 * Starts a TCP server on loopback that answers every connection with `respond`: for
 * answers node:http refuses to send (a Content-Length that lies).
 */
export async function startRawServer(respond: (socket: net.Socket, requestHead: string) => void): Promise<TestServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.once('data', (data) => respond(socket, data.toString('latin1')));
  });
  return listen(server, [], () => {
    for (const socket of sockets) socket.destroy();
  });
}

async function listen(
  server: net.Server,
  requests: http.IncomingMessage[],
  dropConnections: () => void,
): Promise<TestServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        dropConnections();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}

/** A port on loopback that nothing listens on. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function isLoopback(address: string): boolean {
  return ipaddr.isValid(address) && ipaddr.process(address).range() === 'loopback';
}

/**
 * Patches `net.Socket.prototype.connect` (in this test worker only) so that a connection
 * to anything but loopback fails before a packet is sent, and is recorded.
 * @returns the recorded violations and a function that removes the patch
 */
export function installLoopbackTripwire(): { violations: string[]; uninstall: () => void } {
  const violations: string[] = [];
  // Called below with the socket as `this` (Reflect.apply), so taking the method off its prototype is safe.
  // eslint-disable-next-line @typescript-eslint/unbound-method -- see above
  const original = net.Socket.prototype.connect;
  const patched = function (this: net.Socket, ...args: unknown[]): net.Socket {
    // net.connect() hands over its normalized arguments as an array: [options, callback].
    const first = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
    if (typeof first === 'object' && first !== null) {
      const options = first as net.TcpNetConnectOpts;
      if (options.host !== undefined && net.isIP(options.host) !== 0 && !isLoopback(options.host)) {
        violations.push(options.host);
        throw new Error(`tripwire: connection to ${options.host} refused by the test`);
      }
      const lookup = options.lookup;
      options.lookup = ((hostname: string, lookupOptions: dns.LookupOptions, callback: (...a: unknown[]) => void) => {
        if (lookup === undefined) {
          // The system resolver might send a DNS query off this machine: the code under
          // test must always connect through its own pinned lookup.
          violations.push(`system lookup of ${hostname}`);
          callback(new Error(`tripwire: system lookup of ${hostname} refused by the test`));
          return;
        }
        lookup(
          hostname,
          lookupOptions,
          (error: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => {
            const addresses = typeof address === 'string' ? [address] : (address ?? []).map((entry) => entry.address);
            const outside = addresses.filter((entry) => !isLoopback(entry));
            if (error === null && outside.length > 0) {
              violations.push(...outside);
              callback(new Error(`tripwire: ${hostname} -> ${outside.join(', ')} refused by the test`));
              return;
            }
            callback(error, address, family);
          },
        );
      }) as net.TcpNetConnectOpts['lookup'];
    }
    return original.apply(this, args as Parameters<typeof original>);
  };
  net.Socket.prototype.connect = patched;
  return { violations, uninstall: () => void (net.Socket.prototype.connect = original) };
}
