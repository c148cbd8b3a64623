/**
 * The dashboard's handlers: plain async functions from a {@link DashboardRequest} to a
 * {@link DashboardResponse}. Who may call them (credentials, read-only, CSRF) is decided
 * before they run, by the access guard; GET handlers never change anything.
 */
import { exportDeadLetters, groupDeadLetters, retryDeadLetters, type DeadLetterFilter } from '../queue/dead-letters.js';
import { readStatus } from '../queue/status.js';
import type { UploadQueue } from '../queue/upload-queue.js';
import { buildDashboardView, chartedBatches, type DashboardView } from './dashboard-view.js';
import { rateSamplesSince } from '../queue/progress.js';
import { DASHBOARD_PATHS, withQuery } from './paths.js';
import {
  csvDownload,
  htmlResponse,
  jsonResponse,
  redirectResponse,
  textResponse,
  type DashboardRequest,
  type DashboardResponse,
} from './responses.js';
import { renderDeadLettersPage } from './views/dead-letters-page.js';
import { renderHealthPage } from './views/health-page.js';
import { renderOverviewPage } from './views/overview-page.js';
import { DASHBOARD_CSS } from './views/stylesheet.js';

/** What handlers work with. */
export interface DashboardContext {
  uploadQueue: UploadQueue;
  readOnly: boolean;
  /** Embedded in the pages' forms. */
  csrfToken: string;
  now: () => number;
}

/** A dashboard handler. */
export type DashboardHandler = (request: DashboardRequest, context: DashboardContext) => Promise<DashboardResponse>;

/** GET / */
export const overviewPage: DashboardHandler = async (_request, context) =>
  htmlResponse(renderOverviewPage(await readView(context), { readOnly: context.readOnly }));

/** GET /health */
export const healthPage: DashboardHandler = async (_request, context) =>
  htmlResponse(renderHealthPage(await readView(context), { readOnly: context.readOnly, csrfToken: context.csrfToken }));

/** GET /api/status: the overview's and health page's data. */
export const statusApi: DashboardHandler = async (_request, context) =>
  jsonResponse({ ...(await readView(context)), readOnly: context.readOnly });

/** GET /dead-letters[?batch=NAME][&retried=N] */
export const deadLettersPage: DashboardHandler = async (request, context) => {
  const batch = nonEmpty(request.query.batch);
  const retried = request.query.retried;
  return htmlResponse(
    renderDeadLettersPage({
      queueName: context.uploadQueue.config.queue.name,
      groups: await groupDeadLetters(context.uploadQueue, { batch }),
      batch,
      retried: retried !== undefined && /^\d+$/.test(retried) ? Number(retried) : undefined,
      readOnly: context.readOnly,
      csrfToken: context.csrfToken,
    }),
  );
};

/** GET /api/dead-letters[?batch=NAME][&code=CODE]: the groups as JSON. */
export const deadLettersApi: DashboardHandler = async (request, context) =>
  jsonResponse({ groups: await groupDeadLetters(context.uploadQueue, filterOf(request.query)) });

/** GET /dead-letters/export[?batch=NAME][&code=CODE]: a CSV manifest of the dead letters, streamed. */
export const exportDeadLettersCsv: DashboardHandler = (request, context) => {
  const filter = filterOf(request.query);
  const name = ['dead-letters', filter.code, filter.batch].filter((part) => part !== undefined).join('-');
  // The name goes into a header: keep it to characters that need no quoting.
  return Promise.resolve(
    csvDownload(`${name.replace(/[^A-Za-z0-9_.-]/g, '_')}.csv`, async (out) => {
      await exportDeadLetters(context.uploadQueue, filter, out);
    }),
  );
};

/** POST /dead-letters/retry (form: code, optional batch): re-enqueues one group, then shows the page again. */
export const retryDeadLetterGroup: DashboardHandler = async (request, context) => {
  const code = nonEmpty(request.form.code);
  // Retrying "everything" is deliberately not a button: a group is one cause, fixed once.
  if (code === undefined) return textResponse(400, 'the form needs "code": the error code of the group to retry');
  const batch = nonEmpty(request.form.batch);
  const retried = await retryDeadLetters(context.uploadQueue, { code, batch });
  return redirectResponse(withQuery(DASHBOARD_PATHS.deadLetters, { batch, retried }));
};

/** POST /queue/pause */
export const pauseQueue: DashboardHandler = async (_request, context) => {
  await context.uploadQueue.pauseControl.pauseByOperator();
  return redirectResponse(DASHBOARD_PATHS.health);
};

/** POST /queue/resume (also after a systemic pause, once its cause is fixed) */
export const resumeQueue: DashboardHandler = async (_request, context) => {
  await context.uploadQueue.pauseControl.resume();
  return redirectResponse(DASHBOARD_PATHS.health);
};

/** GET /assets/dashboard.css */
export const stylesheet: DashboardHandler = () =>
  Promise.resolve({
    status: 200,
    headers: { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'max-age=300' },
    body: DASHBOARD_CSS,
  });

async function readView(context: DashboardContext): Promise<DashboardView> {
  const snapshot = await readStatus(context.uploadQueue);
  const { ledger } = context.uploadQueue;
  const now = context.now();
  // The charted batches' whole history; of the others, only what their current rates need.
  const charted = chartedBatches(snapshot);
  const others = snapshot.batches.map((b) => b.name).filter((name) => !charted.includes(name));
  const [history, recent] = await Promise.all([
    ledger.progressSamples(charted),
    ledger.progressSamples(others, rateSamplesSince(now)),
  ]);
  const { concurrency, creditsReserve } = context.uploadQueue.config.queue;
  return buildDashboardView(snapshot, new Map([...recent, ...history]), charted, { concurrency, creditsReserve }, now);
}

function filterOf(query: DashboardRequest['query']): DeadLetterFilter {
  return { batch: nonEmpty(query.batch), code: nonEmpty(query.code) };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
