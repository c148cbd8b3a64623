/**
 * What route handlers see and return. Nothing here depends on node:http: `server.ts`
 * turns an incoming request into a {@link FakeRequest} and carries out the {@link Outcome}.
 */
import type { Readable } from 'node:stream';

/** One incoming request, as the handlers see it. */
export interface FakeRequest {
  method: string;
  url: URL;
  /** Header names in lower case. */
  headers: Record<string, string | string[] | undefined>;
  /** The request body; read it at most once. Whatever is left unread is discarded after the answer. */
  body: Readable;
  /** Aborted when the client goes away before the answer is complete. */
  signal: AbortSignal;
  /** Settles when the exchange is over: answered in full, or the connection closed. */
  done: Promise<void>;
}

/** An answer: a status, maybe headers, and a JSON body, a streamed body or none. */
export interface Answer {
  status: number;
  headers?: Record<string, string>;
  /** Serialised as JSON. Absent means no body (a 204, or a `stream`). */
  body?: unknown;
  /** A streamed body (downloads). */
  stream?: Readable;
}

/** An answer of the CRM API: it also names its Zoho code, which the fake counts. */
export interface ApiAnswer extends Answer {
  /** `SUCCESS`, `NO_CONTENT` or the error envelope's code. */
  code: string;
}

/** What the server must do with a request. */
export type Outcome =
  | { kind: 'answer'; answer: Answer }
  /** Keep the connection open and never answer (until the client aborts or the fake closes). */
  | { kind: 'hang' }
  /** Destroy the connection without answering. */
  | { kind: 'reset' };

/** The first value of a header, if any. */
export function headerValue(request: FakeRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** A JSON answer. */
export function jsonAnswer(status: number, body: unknown): Answer {
  return { status, body };
}
