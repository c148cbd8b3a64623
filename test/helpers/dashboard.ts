/**
 * What dashboard tests share: enqueueing a manifest, running in-process workers until the
 * queue is idle, a manifest whose rows end as dead letters with hostile names, and starting
 * the dashboard on a free port.
 */
import { request } from 'undici';
import { startDashboard, type DashboardOptions, type RunningDashboard } from '../../src/dashboard/index.js';
import type { EnqueueSummary } from '../../src/queue/enqueue.js';
import { enqueueManifest as enqueueWithQueue, startWorkers } from './queue-runs.js';
import { UploadQueue } from '../../src/queue/upload-queue.js';
import { createLogger } from '../../src/shared/logger.js';
import type { PipelineWorld } from './pipeline.js';

const silentLogger = createLogger({ level: 'silent', pretty: false });

/** A title that would run script if a page put it in unescaped. */
export const HOSTILE_TITLE = '<script>alert("title")</script>';
/** A file name that would run script if a page put it in unescaped (it does not exist: a dead letter). */
export const HOSTILE_FILE = 'scans/<img src=x onerror=alert(1)>.pdf';

/**
 * Enqueues a manifest file of the world into `batch`. The mixed manifest's missing scan must
 * reach the workers and become a dead letter for the pages to show, so enqueue's source
 * checks are off here.
 */
export function enqueueManifest(world: PipelineWorld, manifestPath: string, batch: string): Promise<EnqueueSummary> {
  return enqueueWithQueue(world, manifestPath, batch, { checks: { sources: false } });
}

export { startWorkers };

/** Waits until nothing is waiting, delayed or active. */
export function waitUntilIdle(uploadQueue: UploadQueue, timeoutMs = 30_000): Promise<void> {
  return uploadQueue.waitUntilIdle({ pollMs: 100, timeoutMs });
}

/** Runs one worker until the queue is idle, then closes it. */
export async function runWorkerUntilIdle(world: PipelineWorld): Promise<void> {
  const [worker] = await startWorkers(world);
  try {
    await waitUntilIdle(worker!.uploadQueue);
  } finally {
    await worker!.close();
  }
}

/**
 * Writes a manifest of `good` uploadable files, `widgets` rows for a module Zoho does not
 * know (INVALID_MODULE, with {@link HOSTILE_TITLE}) and one row whose file is missing
 * (SOURCE_NOT_FOUND, named {@link HOSTILE_FILE}). Returns its path.
 */
export async function writeMixedManifest(
  world: PipelineWorld,
  name: string,
  counts: { good: number; widgets: number },
): Promise<string> {
  const lines = ['module,record_id,file,link_url,title,legacy_id'];
  for (let i = 1; i <= counts.widgets; i++)
    lines.push(`Widgets,${9000 + i},files/${name}-w${i}.txt,,"${HOSTILE_TITLE.replace(/"/g, '""')}",W-${i}`);
  lines.push(`Accounts,8001,${HOSTILE_FILE},,Missing scan (${name}),M-1`);
  for (let i = 1; i <= counts.good; i++) {
    await world.writeFile(`files/${name}-${i}.txt`, `contents of ${name} document ${i}\n`.repeat(20 + (i % 7) * 40));
    lines.push(`Accounts,${4_150_868_000_000_000 + i},files/${name}-${i}.txt,,Document ${i},L-${i}`);
  }
  for (let i = 1; i <= counts.widgets; i++) await world.writeFile(`files/${name}-w${i}.txt`, 'widget spec');
  return world.writeFile(`${name}.csv`, `${lines.join('\n')}\n`);
}

/** Starts the dashboard for the world on a free loopback port. */
export function startTestDashboard(
  world: PipelineWorld,
  options: Partial<DashboardOptions> = {},
): Promise<RunningDashboard> {
  return startDashboard({ config: world.config, host: '127.0.0.1', port: 0, logger: silentLogger, ...options });
}

/** The CSRF token a page embeds in its forms. */
export function csrfTokenIn(page: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(page);
  if (!match) throw new Error('no CSRF token in the page');
  return match[1] as string;
}

/** A finished HTTP exchange. */
export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Sends a request and reads the whole answer (redirects are not followed). */
export async function httpRequest(
  url: string,
  options: {
    method?: 'GET' | 'POST' | 'PUT' | 'PATCH';
    headers?: Record<string, string>;
    form?: Record<string, string>;
    json?: unknown;
  } = {},
): Promise<HttpResult> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined;
  if (options.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(options.form).toString();
  } else if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  }
  const response = await request(url, {
    method: options.method ?? 'GET',
    headers,
    ...(body === undefined ? {} : { body }),
  });
  return { status: response.statusCode, headers: response.headers, body: await response.body.text() };
}

/** An `Authorization: Basic …` header. */
export function basicAuth(user: string, password: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}
