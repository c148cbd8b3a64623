/**
 * The dashboard in a real browser (Debian's chromium, driven by playwright-core): the overview
 * during a migration (the README's screenshot, docs/dashboard.png), bull-board working under our CSP and CSRF
 * defences, and a dead-letter group retried with its button. The tests run in order on one
 * migration: a pilot batch, then a larger one with dead letters, uploaded while we watch.
 */
import { existsSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_PATHS, type RunningDashboard } from '../../src/dashboard/index.js';
import { UploadQueue } from '../../src/queue/upload-queue.js';
import {
  enqueueManifest,
  startTestDashboard,
  startWorkers,
  waitUntilIdle,
  writeMixedManifest,
} from '../helpers/dashboard.js';
import { createPipelineWorld, type PipelineWorld } from '../helpers/pipeline.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/**
 * The README shows this picture. A normal run writes it to the temp folder (so `npm test` leaves
 * the tree clean); `UPDATE_SCREENSHOTS=1 npm test` refreshes the committed one.
 */
const SCREENSHOT = process.env.UPDATE_SCREENSHOTS
  ? fileURLToPath(new URL('../../docs/dashboard.png', import.meta.url))
  : path.join(os.tmpdir(), `zoho-attach-dashboard-${process.pid}.png`);

const hasChromium = existsSync(CHROMIUM);
if (!hasChromium)
  console.warn(`dashboard browser tests skipped: ${CHROMIUM} does not exist (apt-get install chromium)`);

describe.skipIf(!hasChromium)('the dashboard in a browser', () => {
  let world: PipelineWorld;
  let dashboard: RunningDashboard;
  let uploadQueue: UploadQueue;
  let browser: Browser;
  let page: Page;
  /** Console errors and uncaught exceptions of every page loaded. */
  const pageErrors: string[] = [];

  beforeAll(async () => {
    world = await createPipelineWorld({
      // Enough latency to watch a batch in progress; Zoho's credits header shows once half the day's credits are spent.
      fake: { latencyMs: { min: 30, max: 90 }, dailyCredits: 320 },
      env: { ZOHO_CONCURRENCY: '5', ZOHO_ATTACH_CREDITS_RESERVE: '10' },
    });
    dashboard = await startTestDashboard(world);
    uploadQueue = await UploadQueue.open(world.config);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('pageerror', (error) => pageErrors.push(`pageerror: ${error.message}`));
    // Every console error counts: bull-board's third-party font link is taken out, so nothing is refused.
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(`console: ${message.text()}`);
    });
  });

  afterAll(async () => {
    await browser?.close();
    await dashboard?.close();
    await uploadQueue?.close();
    await world?.cleanup();
  });

  it("shows a migration in progress on the overview (the README's screenshot)", async () => {
    const workers = await startWorkers(world);
    try {
      await enqueueManifest(
        world,
        await writeMixedManifest(world, 'contacts-pilot', { good: 40, widgets: 0 }),
        'contacts-pilot',
      );
      await waitUntilIdle(uploadQueue);
      await enqueueManifest(
        world,
        await writeMixedManifest(world, 'accounts-2024', { good: 200, widgets: 3 }),
        'accounts-2024',
      );
      await expect
        .poll(
          async () => {
            const batch = await uploadQueue.ledger.getBatch('accounts-2024');
            return batch ? (batch.uploaded + batch.dead) / batch.owned : 0;
          },
          { timeout: 20_000, interval: 50 },
        )
        .toBeGreaterThanOrEqual(0.6);

      await page.goto(`${dashboard.url}/`);
      await expect.poll(() => page.locator('tbody tr').count()).toBe(2);
      const accounts = page.locator('tbody tr', { hasText: 'accounts-2024' });
      expect(await accounts.locator('progress').getAttribute('max')).toBe('204');
      expect(await page.locator('.chart svg polyline').count()).toBe(1);
      // Mid-run the batch has a rate, so an ETA (a duration, not "--").
      // (The ETA column is the one before the last check's.)
      expect(await accounts.locator('td:nth-last-child(2)').innerText()).toMatch(/^\d+(h\d\dm\d\ds|m\d\ds|s)$/);
      expect(await accounts.locator('td').last().innerText()).toBe('never');
      await page.screenshot({ path: SCREENSHOT });
      expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000);

      await waitUntilIdle(uploadQueue);
    } finally {
      await Promise.all(workers.map((worker) => worker.close()));
    }
    // A dashboard opened after the run (another process, as an operator would start one) still
    // charts the whole batch: the samples are in Redis, not in the first dashboard's memory.
    const late = await startTestDashboard(world);
    try {
      await page.goto(`${late.url}/`);
      expect(await page.locator('tbody tr', { hasText: 'accounts-2024' }).locator('.badge').innerText()).toBe('done');
      expect(await page.locator('.chart svg').getAttribute('aria-label')).toMatch(
        /^uploads per second over the \d+s since the first finished: now .*, peak [1-9]/,
      );
    } finally {
      await late.close();
    }
    expect(pageErrors).toEqual([]);
  });

  it("serves bull-board under our CSP, read-only: no button writes behind the ledger's back", async () => {
    await page.goto(`${dashboard.url}${DASHBOARD_PATHS.bullBoard}/queue/uploads?status=failed`);
    await page.getByText('INVALID_MODULE').first().waitFor();
    expect(await uploadQueue.queue.getFailedCount()).toBe(5); // 3 INVALID_MODULE + a missing file in each batch

    // Read-only: bull-board shows no retry, clean or add buttons (its API refuses those writes too).
    await page.goto(`${dashboard.url}${DASHBOARD_PATHS.bullBoard}/queue/uploads?status=completed`);
    await page.getByText('Completed').first().waitFor();
    for (const name of ['Clean all', 'Retry all', 'Add job'])
      expect(await page.getByRole('button', { name }).count()).toBe(0);
    expect(pageErrors).toEqual([]);
    const html = await (await fetch(`${dashboard.url}${DASHBOARD_PATHS.bullBoard}`)).text();
    expect(html).not.toContain('fonts.googleapis.com');
  });

  it('retries a dead-letter group with its button: the rows are queued again', async () => {
    await page.goto(`${dashboard.url}${DASHBOARD_PATHS.deadLetters}`);
    const group = page.locator('article[data-code="INVALID_MODULE"]');
    expect(await group.locator('.badge').innerText()).toBe('3 row(s)');
    await Promise.all([page.waitForURL(/retried=3/), group.getByRole('button', { name: 'Retry 3' }).click()]);
    expect(await page.locator('.banner.ok').innerText()).toContain('Re-enqueued 3 dead letter(s)');
    expect(await page.locator('article[data-code="INVALID_MODULE"]').count()).toBe(0);

    const waiting = await uploadQueue.queue.getWaiting();
    expect(waiting.map((job) => job.data.module)).toEqual(['Widgets', 'Widgets', 'Widgets']);
    const items = await uploadQueue.ledger.getItems(waiting.map((job) => job.id!));
    expect(items.map((item) => item?.status)).toEqual(['pending', 'pending', 'pending']);
    expect((await uploadQueue.ledger.getBatch('accounts-2024'))!.dead).toBe(1);
    expect(pageErrors).toEqual([]);
  });
});
