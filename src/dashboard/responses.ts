/**
 * The shape of the dashboard's handlers, as in bull-board's api package: a handler takes a
 * plain request and returns `{ status, headers, body }`; only the express adapter knows express.
 */
import type { SafeHtml } from './views/html.js';

/** A request as handlers see it. */
export interface DashboardRequest {
  /** Query parameters (the first value of each). */
  query: Readonly<Record<string, string | undefined>>;
  /** Fields of a urlencoded form body (POST). */
  form: Readonly<Record<string, string | undefined>>;
}

/** Writes a streamed body to the response; resolves when done. */
export type BodyWriter = (out: NodeJS.WritableStream) => Promise<void>;

/** What a handler answers. */
export interface DashboardResponse {
  status: number;
  headers?: Record<string, string>;
  /** Text, or a writer for a body too large to build in memory. */
  body?: string | BodyWriter;
}

/** A page; `no-store` because pages show job data. */
export function htmlResponse(page: SafeHtml, status = 200): DashboardResponse {
  return {
    status,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
    body: page.toString(),
  };
}

/** A JSON body. */
export function jsonResponse(value: unknown, status = 200): DashboardResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
    body: JSON.stringify(value),
  };
}

/** Plain text (errors). */
export function textResponse(status: number, message: string): DashboardResponse {
  return {
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
    body: `${message}\n`,
  };
}

/** 303 See Other: after a form POST, the browser GETs `location` (so a reload does not post again). */
export function redirectResponse(location: string): DashboardResponse {
  return { status: 303, headers: { location }, body: '' };
}

/** A CSV download streamed by `write`. */
export function csvDownload(fileName: string, write: BodyWriter): DashboardResponse {
  return {
    status: 200,
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="${fileName}"`,
      'cache-control': 'no-store',
    },
    body: write,
  };
}
