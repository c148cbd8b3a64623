/**
 * An accounts server that is not one: it answers every request with HTTP 200 and the request
 * body repeated back, the way a proxy page, a wrong ZOHO_ACCOUNTS_URL or a debugging endpoint
 * does. A token refresh sends the client secret and the refresh token in that body.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the body comes back. */
export type EchoShape =
  /** text/plain, the urlencoded form as it came. */
  | 'text'
  /** JSON: each form field as a property (`client_secret`, `refresh_token`, …). */
  | 'fields'
  /** JSON: `{"error": "<the body>"}`: an error that is not one of Zoho's codes. */
  | 'error'
  /** JSON: Zoho's throttle code with the body as its description. */
  | 'access-denied'
  /** JSON: Zoho's `invalid_client` with the body as its description and in another field. */
  | 'invalid-client'
  /** HTTP 500 with the body as `error` and `error_description`. */
  | 'server-error';

/** Every shape, for tests that try them all. */
export const ECHO_SHAPES: readonly EchoShape[] = [
  'text',
  'fields',
  'error',
  'access-denied',
  'invalid-client',
  'server-error',
];

/** A running echo server. */
export interface EchoAccounts {
  url: string;
  shape: EchoShape;
  /** Requests answered so far. */
  requests: number;
  close(): Promise<void>;
}

/** Starts an echoing accounts server on a free loopback port. */
export async function startEchoAccounts(shape: EchoShape = 'fields'): Promise<EchoAccounts> {
  const state = { shape, requests: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      state.requests++;
      const body = Buffer.concat(chunks).toString('utf8');
      const [status, type, text] = answer(state.shape, body);
      res.writeHead(status, { 'content-type': type });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get shape() {
      return state.shape;
    },
    set shape(next: EchoShape) {
      state.shape = next;
    },
    get requests() {
      return state.requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function answer(shape: EchoShape, body: string): [number, string, string] {
  const json = (value: unknown): string => JSON.stringify(value);
  switch (shape) {
    case 'text':
      return [200, 'text/plain', body];
    case 'fields':
      return [200, 'application/json', json(Object.fromEntries(new URLSearchParams(body)))];
    case 'error':
      return [200, 'application/json', json({ error: body })];
    case 'access-denied':
      return [200, 'application/json', json({ error: 'Access Denied', error_description: body, status: 'failure' })];
    case 'invalid-client':
      return [200, 'application/json', json({ error: 'invalid_client', error_description: body, request: body })];
    case 'server-error':
      return [500, 'application/json', json({ error: body, error_description: body })];
  }
}
