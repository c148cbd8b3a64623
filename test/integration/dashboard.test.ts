/**
 * The dashboard's pages and actions over real HTTP, against a real Redis and the fake Zoho:
 * batch progress and rates, dead letters grouped with retry and CSV export, pause and resume,
 * a systemic pause explained, and a clean close.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DASHBOARD_PATHS, type DashboardView, type RunningDashboard } from '../../src/dashboard/index.js';
import type { DeadLetterGroup } from '../../src/queue/dead-letters.js';
import { UploadQueue } from '../../src/queue/upload-queue.js';
import { ZohoAttach } from '../../src/index.js';
import {
  csrfTokenIn,
  enqueueManifest,
  httpRequest,
  runWorkerUntilIdle,
  startTestDashboard,
  writeMixedManifest,
} from '../helpers/dashboard.js';
import { createPipelineWorld, parseCsv, type PipelineWorld } from '../helpers/pipeline.js';

let world: PipelineWorld | undefined;
let dashboard: RunningDashboard | undefined;
let uploadQueue: UploadQueue | undefined;
afterEach(async () => {
  await dashboard?.close();
  await uploadQueue?.close();
  await world?.cleanup();
  dashboard = undefined;
  uploadQueue = undefined;
  world = undefined;
});

/** A finished batch "mixed": 3 uploads, 2 INVALID_MODULE, 1 SOURCE_NOT_FOUND; the dashboard and a queue handle on it. */
async function setUp() {
  world = await createPipelineWorld();
  await enqueueManifest(world, await writeMixedManifest(world, 'mixed', { good: 3, widgets: 2 }), 'mixed');
  await runWorkerUntilIdle(world);
  dashboard = await startTestDashboard(world);
  uploadQueue = await UploadQueue.open(world.config);
  return { world, dashboard, uploadQueue };
}

async function getJson<T>(url: string): Promise<T> {
  const response = await httpRequest(url);
  expect(response.status, url).toBe(200);
  return JSON.parse(response.body) as T;
}

/** Posts one of the pages' forms the way a browser does: the page's token, our own Origin. */
async function postForm(d: RunningDashboard, path: string, form: Record<string, string>, tokenPage: string) {
  const token = csrfTokenIn((await httpRequest(`${d.url}${tokenPage}`)).body);
  return httpRequest(`${d.url}${path}`, {
    method: 'POST',
    headers: { origin: d.url },
    form: { ...form, _csrf: token },
  });
}

describe('the dashboard', () => {
  it("shows each batch's progress and the queue's health, and, opened after the batch ended, its whole rate history", async () => {
    const { dashboard, world, uploadQueue } = await setUp();
    const view = await getJson<DashboardView>(`${dashboard.url}${DASHBOARD_PATHS.statusApi}`);
    expect(view.queueName).toBe(world.queueName);
    expect(view.batches).toEqual([
      expect.objectContaining({
        name: 'mixed',
        total: 6,
        done: 6,
        uploaded: 3,
        dead: 3,
        pending: 0,
        rejected: 0,
        etaSeconds: 0,
      }),
    ]);
    expect(view.health).toMatchObject({
      inFlight: 0,
      concurrencyLimit: world.config.queue.concurrency,
      rateLimited: 0,
      paused: false,
      systemicPause: false,
    });
    expect(view.queue).toMatchObject({ failed: 3, waiting: 0, active: 0 });

    // The workers wrote the batch's progress into Redis as rows finished: a dashboard started
    // after the batch ended charts all of it at once, and the samples expire by themselves.
    const samples = (await uploadQueue.ledger.progressSamples(['mixed'])).get('mixed')!;
    expect(samples.at(-1)).toMatchObject({ uploaded: 3, dead: 3, slotMs: 5_000 });
    expect(await uploadQueue.redis.pttl(`${world.queueName}:ledger:batch:mixed:progress`)).toBeGreaterThan(
      29 * 24 * 3_600_000,
    );
    expect(view.chartedBatches).toEqual(['mixed']);
    expect(view.rateHistory).toHaveLength(120);
    const finished = view.rateHistory.reduce(
      (sum, p, i) =>
        sum +
        p.uploadsPerSecond *
          ((p.at - (view.rateHistory[i - 1]?.at ?? p.at - (view.rateHistory[1]!.at - view.rateHistory[0]!.at))) / 1000),
      0,
    );
    expect(finished).toBeCloseTo(6, 1);
    const overview = (await httpRequest(`${dashboard.url}/`)).body;
    expect(overview).toMatch(/<strong>mixed<\/strong>/);
    expect(overview).toMatch(/<progress class="finished" max="6" value="6">/);
    expect(overview).toMatch(/<svg viewBox/);
    expect(overview).toContain(`href="${DASHBOARD_PATHS.deadLetters}?batch=mixed"`);
    expect(overview).toMatch(/<span class="muted">never<\/span>/);

    // After a check against Zoho, the batch shows its result, when, and the API calls it spent.
    const za = await ZohoAttach.open(world.config);
    try {
      expect((await za.check('mixed')).passed).toBe(true);
    } finally {
      await za.close();
    }
    const checked = (await httpRequest(`${dashboard.url}/`)).body;
    expect(checked).toMatch(/<span class="badge ok">passed<\/span>\s*<div class="muted">[^<]* · 3 API calls<\/div>/);
    // The credits the deployment spent: the uploads and listings of the run, and the check's 3.
    const spent = /Credits spent, 24 h<\/div>\s*<div class="value">(\d+)/.exec(checked)?.[1];
    expect(Number(spent)).toBeGreaterThanOrEqual(3 + 3);
  });

  it('groups dead letters by error code with their messages and a sample row', async () => {
    const { dashboard } = await setUp();
    const { groups } = await getJson<{ groups: DeadLetterGroup[] }>(
      `${dashboard.url}${DASHBOARD_PATHS.deadLettersApi}`,
    );
    expect(groups.map((g) => [g.code, g.count])).toEqual([
      ['INVALID_MODULE', 2],
      ['SOURCE_NOT_FOUND', 1],
    ]);
    expect(groups[0]!.sample).toMatchObject({ batch: 'mixed', module: 'Widgets', httpStatus: 400 });
    const filtered = await getJson<{ groups: DeadLetterGroup[] }>(
      `${dashboard.url}${DASHBOARD_PATHS.deadLettersApi}?code=SOURCE_NOT_FOUND`,
    );
    expect(filtered.groups.map((g) => g.code)).toEqual(['SOURCE_NOT_FOUND']);

    const page = (await httpRequest(`${dashboard.url}${DASHBOARD_PATHS.deadLetters}?batch=mixed`)).body;
    expect(page).toContain('data-code="INVALID_MODULE"');
    expect(page).toContain('data-code="SOURCE_NOT_FOUND"');
    expect(page).toContain('<button type="submit">Retry 2</button>');
    expect(page).toContain(`href="${DASHBOARD_PATHS.exportDeadLetters}?code=INVALID_MODULE&amp;batch=mixed"`);
    expect((await httpRequest(`${dashboard.url}${DASHBOARD_PATHS.deadLetters}?batch=other`)).body).toContain(
      'No dead letters.',
    );
  });

  it('exports a group of dead letters as a CSV manifest', async () => {
    const { dashboard } = await setUp();
    const response = await httpRequest(
      `${dashboard.url}${DASHBOARD_PATHS.exportDeadLetters}?code=INVALID_MODULE&batch=mixed`,
    );
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/csv/);
    expect(response.headers['content-disposition']).toBe(
      'attachment; filename="dead-letters-INVALID_MODULE-mixed.csv"',
    );
    const rows = parseCsv(response.body);
    expect(rows).toHaveLength(2);
    expect(rows.map((r) => [r.module, r.dlq_error_code, r.legacy_id]).sort()).toEqual([
      ['Widgets', 'INVALID_MODULE', 'W-1'],
      ['Widgets', 'INVALID_MODULE', 'W-2'],
    ]);
  });

  it('retries a group of dead letters on POST: its jobs are queued again and its rows pending in the ledger', async () => {
    const { dashboard, uploadQueue } = await setUp();
    const deadBefore = (await uploadQueue.ledger.getBatch('mixed'))!.dead;

    const response = await postForm(
      dashboard,
      DASHBOARD_PATHS.retryDeadLetters,
      { code: 'INVALID_MODULE', batch: 'mixed' },
      DASHBOARD_PATHS.deadLetters,
    );
    expect(response.status).toBe(303);
    expect(response.headers.location).toBe(`${DASHBOARD_PATHS.deadLetters}?batch=mixed&retried=2`);

    const waiting = await uploadQueue.queue.getWaiting();
    expect(waiting.map((job) => job.data.module)).toEqual(['Widgets', 'Widgets']);
    const items = await uploadQueue.ledger.getItems(waiting.map((job) => job.id!));
    expect(items.map((item) => item?.status)).toEqual(['pending', 'pending']);
    expect((await uploadQueue.ledger.getBatch('mixed'))!.dead).toBe(deadBefore - 2);
    expect(await uploadQueue.queue.getFailedCount()).toBe(1); // SOURCE_NOT_FOUND was left alone

    const page = (await httpRequest(`${dashboard.url}${response.headers.location as string}`)).body;
    expect(page).toContain('Re-enqueued 2 dead letter(s)');
    expect(page).not.toContain('data-code="INVALID_MODULE"');

    // A group is named by its code: a form without one retries nothing.
    expect((await postForm(dashboard, DASHBOARD_PATHS.retryDeadLetters, {}, DASHBOARD_PATHS.deadLetters)).status).toBe(
      400,
    );
    expect(await uploadQueue.queue.getFailedCount()).toBe(1);
  });

  it('pauses and resumes the queue on POST', async () => {
    const { dashboard, uploadQueue } = await setUp();
    const paused = await postForm(dashboard, DASHBOARD_PATHS.pause, {}, DASHBOARD_PATHS.health);
    expect(paused.status).toBe(303);
    expect(paused.headers.location).toBe(DASHBOARD_PATHS.health);
    expect(await uploadQueue.pauseControl.status()).toMatchObject({
      paused: true,
      reason: { code: 'PAUSED_BY_OPERATOR' },
    });
    const health = (await httpRequest(`${dashboard.url}${DASHBOARD_PATHS.health}`)).body;
    expect(health).toContain(`action="${DASHBOARD_PATHS.resume}"`);
    expect(health).toContain('<code>PAUSED_BY_OPERATOR</code>');

    expect((await postForm(dashboard, DASHBOARD_PATHS.resume, {}, DASHBOARD_PATHS.health)).status).toBe(303);
    expect((await uploadQueue.pauseControl.status()).paused).toBe(false);
    expect((await httpRequest(`${dashboard.url}${DASHBOARD_PATHS.health}`)).body).toContain(
      `action="${DASHBOARD_PATHS.pause}"`,
    );
  });

  it('says why a worker paused the queue, what to fix, and resumes it once fixed', async () => {
    const { dashboard, uploadQueue } = await setUp();
    await uploadQueue.pauseControl.pause({
      code: 'AUTHENTICATION_FAILURE',
      message: 'Zoho refused the OAuth client',
      hint: 'check ZOHO_CLIENT_ID and ZOHO_CLIENT_SECRET',
    });
    const view = await getJson<DashboardView>(`${dashboard.url}${DASHBOARD_PATHS.statusApi}`);
    expect(view.health).toMatchObject({
      paused: true,
      systemicPause: true,
      pauseReason: { code: 'AUTHENTICATION_FAILURE' },
    });
    for (const path of ['/', DASHBOARD_PATHS.health]) {
      const page = (await httpRequest(`${dashboard.url}${path}`)).body;
      expect(page, path).toContain('<div class="banner bad">');
      expect(page).toContain('<code>AUTHENTICATION_FAILURE</code> Zoho refused the OAuth client');
      expect(page).toContain('check ZOHO_CLIENT_ID and ZOHO_CLIENT_SECRET');
    }
    expect((await postForm(dashboard, DASHBOARD_PATHS.resume, {}, DASHBOARD_PATHS.health)).status).toBe(303);
    expect(await uploadQueue.pauseControl.status()).toEqual({ paused: false });
  });

  it('says so when its port is taken, and closes idempotently, freeing its port', async () => {
    const { dashboard, world } = await setUp();
    const port = Number(new URL(dashboard.url).port);
    await expect(startTestDashboard(world, { port })).rejects.toThrow(
      /\[DASHBOARD_LISTEN_FAILED\] cannot listen on 127.0.0.1:\d+: EADDRINUSE/,
    );
    await Promise.all([dashboard.close(), dashboard.close()]);
    await dashboard.close();
    await expect(httpRequest(`${dashboard.url}/`)).rejects.toThrow();
  });
});
