/**
 * The thin express adapter: security headers and the access guard on every request, the
 * dashboard's handlers on their routes, bull-board under its path. Everything that decides
 * something lives in the framework-free modules this one calls.
 */
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '../shared/logger.js';
import { createBullBoardApp } from './bull-board.js';
import type { DashboardContext, DashboardHandler } from './handlers.js';
import { DASHBOARD_PATHS } from './paths.js';
import { textResponse, type DashboardResponse } from './responses.js';
import { DASHBOARD_ROUTES } from './routes.js';
import { checkCaller, checkWrite, type AccessDenial, type AccessPolicy } from './security/access-guard.js';
import { CSRF_COOKIE, CSRF_FORM_FIELD } from './security/csrf.js';
import { securityHeaders } from './security/headers.js';

/** Largest form body accepted (our forms carry a token and a code). */
const FORM_LIMIT = '16kb';

/** Builds the dashboard's express app. */
/** bull-board's web-font stylesheet link (see the bull-board mount below). */
const THIRD_PARTY_FONT_LINK = /<link[^>]*fonts\.googleapis\.com[^>]*>/g;

export function createDashboardApp(options: {
  context: DashboardContext;
  policy: AccessPolicy;
  logger?: Logger | undefined;
}): Express {
  const { context, policy, logger } = options;
  const app = express();
  app.disable('x-powered-by');

  app.use((req, res, next) => {
    res.set(securityHeaders(isBullBoardPath(req.path) ? 'bull-board' : 'dashboard'));
    const denial = checkCaller(req.headers, policy);
    if (denial) return void sendDenial(res, denial);
    next();
  });
  // Parsed only after the caller is known, and only for urlencoded bodies (our forms).
  app.use(express.urlencoded({ extended: false, limit: FORM_LIMIT }));
  app.use((req, res, next) => {
    const denial = checkWrite(
      {
        method: req.method,
        headers: req.headers,
        formToken: firstString((req.body as Record<string, unknown> | undefined)?.[CSRF_FORM_FIELD]),
      },
      policy,
    );
    if (denial) return void sendDenial(res, denial);
    next();
  });

  for (const route of DASHBOARD_ROUTES) {
    const handle = adapt(route.handler, context);
    if (route.method === 'GET') app.get(route.path, handle);
    else app.post(route.path, handle);
  }

  app.use(
    DASHBOARD_PATHS.bullBoard,
    (req, res, next) => {
      // bull-board's UI sends this cookie back as an X-XSRF-TOKEN header on its writes (see csrf.ts).
      if (req.method === 'GET')
        res.cookie(CSRF_COOKIE, policy.csrfToken, {
          path: DASHBOARD_PATHS.bullBoard,
          sameSite: 'strict',
          httpOnly: false,
        });
      // Job data and dead letters are no one's to cache: not a browser's, not a proxy's.
      res.setHeader('Cache-Control', 'no-store');
      // bull-board's page links a web font on fonts.googleapis.com, which our CSP refuses (no
      // third-party requests): the link is taken out, so the browser neither asks nor complains.
      const send = res.send.bind(res);
      res.send = (body?: unknown) => send(typeof body === 'string' ? body.replace(THIRD_PARTY_FONT_LINK, '') : body);
      next();
    },
    createBullBoardApp(context.uploadQueue),
  );

  app.use((_req, res) => void send(res, textResponse(404, 'not found')));
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) {
      // Failed mid-stream (a CSV export): cutting the connection is the only honest signal left.
      logger?.error({ err: error }, 'dashboard response failed after it started');
      res.destroy();
      return;
    }
    const status = clientErrorStatus(error);
    if (status !== undefined) return void send(res, textResponse(status, 'bad request'));
    logger?.error({ err: error }, 'dashboard request failed');
    void send(res, textResponse(500, 'internal error (see the dashboard log)'));
  });
  return app;
}

function isBullBoardPath(path: string): boolean {
  return path === DASHBOARD_PATHS.bullBoard || path.startsWith(`${DASHBOARD_PATHS.bullBoard}/`);
}

/** Turns a handler into express middleware; express 5 sends a rejected promise to the error handler. */
function adapt(handler: DashboardHandler, context: DashboardContext) {
  return async (req: Request, res: Response): Promise<void> => {
    const response = await handler({ query: stringsOf(req.query), form: stringsOf(req.body) }, context);
    await send(res, response);
  };
}

async function send(res: Response, response: DashboardResponse): Promise<void> {
  res.status(response.status).set(response.headers ?? {});
  const { body } = response;
  if (typeof body !== 'function') {
    res.send(body ?? '');
    return;
  }
  // A client that goes away mid-download would leave the writer waiting for 'drain' forever.
  const closed = new Promise<void>((resolve) => res.once('close', resolve));
  await Promise.race([body(res), closed]);
  res.end();
}

function sendDenial(res: Response, denial: AccessDenial): Promise<void> {
  const response = textResponse(denial.status, denial.message);
  return send(res, { ...response, headers: { ...response.headers, ...denial.headers } });
}

/** The first string of each parameter (query strings and forms may repeat a key). */
function stringsOf(source: unknown): Record<string, string | undefined> {
  const result: Record<string, string | undefined> = {};
  if (source === null || typeof source !== 'object') return result;
  for (const [key, value] of Object.entries(source)) result[key] = firstString(value);
  return result;
}

function firstString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return undefined;
}

/** The 4xx status body-parser puts on a malformed or oversized body; undefined for anything else. */
function clientErrorStatus(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}
