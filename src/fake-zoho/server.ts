/**
 * The HTTP plumbing: node:http in, {@link Outcome} out. Everything about what to answer
 * lives in the dispatcher; this file only knows sockets.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listen as listenOn } from '../shared/http-server.js';
import { pipeline } from 'node:stream/promises';
import type { FakeRequest, Outcome } from './exchange.js';

/** A listening server. */
export interface RunningServer {
  url: string;
  port: number;
  /** Stops listening and destroys every open connection, hung ones included. Idempotent. */
  close(): Promise<void>;
}

/** Starts listening and hands every request to `dispatch`. */
export async function listen(
  address: { host: string; port: number },
  dispatch: (request: FakeRequest) => Promise<Outcome>,
  onInternalError: (error: unknown) => void,
): Promise<RunningServer> {
  const server = createServer((request, response) => {
    serve(request, response, dispatch).catch((error: unknown) => {
      onInternalError(error);
      response.destroy();
    });
  });
  const listening = await listenOn(server, address.port, address.host);
  return { url: listening.origin, port: listening.port, close: listening.close };
}

async function serve(
  request: IncomingMessage,
  response: ServerResponse,
  dispatch: (request: FakeRequest) => Promise<Outcome>,
): Promise<void> {
  const clientLeft = new AbortController();
  const done = new Promise<void>((resolve) => {
    response.once('close', () => {
      if (!response.writableFinished) clientLeft.abort();
      resolve();
    });
  });
  const outcome = await dispatch({
    method: request.method ?? 'GET',
    url: new URL(request.url ?? '/', 'http://fake-zoho.invalid'),
    headers: request.headers,
    body: request,
    signal: clientLeft.signal,
    done,
  });

  if (outcome.kind === 'reset') {
    request.socket.destroy();
    return;
  }
  // Whatever the handler did not read (an early 413, a fault, a hang) is read and dropped,
  // so the client can finish sending and read the answer.
  if (!request.complete) request.resume();
  if (outcome.kind === 'hang') return;

  const { status, headers = {}, body, stream } = outcome.answer;
  if (stream) {
    response.writeHead(status, headers);
    await pipeline(stream, response).catch(() => response.destroy());
    return;
  }
  if (body === undefined) {
    response.writeHead(status, headers).end();
    return;
  }
  const json = JSON.stringify(body);
  response
    .writeHead(status, {
      ...headers,
      'Content-Type': 'application/json;charset=UTF-8',
      'Content-Length': String(Buffer.byteLength(json)),
    })
    .end(json);
}
