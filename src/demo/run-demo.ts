/**
 * The demo: the whole product on one machine, without a Zoho account. A Redis (the one at
 * REDIS_URL, or a private one), the fake Zoho with a realistic limit, latency and faults,
 * the example manifests, workers until idle with live progress, then reports.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config } from '../config/config.js';
import { FAKE_CREDENTIALS, startFakeZoho, type FakeZoho } from '../fake-zoho/index.js';
import { DASHBOARD_DEFAULTS } from '../dashboard/options.js';
import { writeReport } from '../ledger/report.js';
import { csvLine } from '../report/csv.js';
import { readManifest } from '../manifest/index.js';
import { groupDeadLetters } from '../queue/dead-letters.js';
import { enqueueRows, type EnqueueSummary } from '../queue/enqueue.js';
import { readProgress, type BatchProgress } from '../queue/progress.js';
import { startUploadWorker } from '../queue/upload-worker.js';
import { UploadQueue } from '../queue/upload-queue.js';
import { createLogger } from '../shared/logger.js';
import { ensureRedis } from './private-redis.js';

/** The committed example manifests and their files. */
export const EXAMPLES_DIR = fileURLToPath(new URL('../../jobs/examples/', import.meta.url));

/** What the demo needs from its caller. */
export interface DemoOptions {
  env: Record<string, string | undefined>;
  /** Where reports go (a new folder per run is made inside). */
  runsDir: string;
  out: NodeJS.WritableStream & { isTTY?: boolean };
  /** Workers (in this process) and the uploads each runs at once. */
  workers?: number;
  /**
   * Keep the dashboard running on the demo's queue after the run, until this promise resolves
   * (Ctrl-C); undefined: finish right after the reports.
   */
  dashboardUntil?: Promise<unknown>;
  /** Called every quarter second while the workers run, with each batch's progress (the CLI draws it). */
  onProgress?: (progress: BatchProgress[]) => void;
}

/** What a demo run produced. */
export interface DemoResult {
  batches: Array<{ name: string; reportPath: string; uploaded: number; dead: number; rejected: number }>;
  /** Attachments the fake holds, and how many of them duplicate another. */
  stored: number;
  duplicates: number;
  runDir: string;
}

/** Zoho Standard edition's limit, as the demo's fake enforces it. */
const DEMO_CONCURRENCY = 10;

/** Runs the demo end to end and cleans up what it started (except the reports). */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const say = (text: string) => options.out.write(`${text}\n`);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const runDir = path.join(options.runsDir, `demo-${stamp}`);
  await mkdir(runDir, { recursive: true });

  const redis = await ensureRedis(options.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  say(
    redis.private
      ? `redis: none answered at REDIS_URL, started a private redis-server at ${redis.url}`
      : `redis: using ${redis.url}`,
  );
  const fake = await startFakeZoho({ concurrencyLimit: DEMO_CONCURRENCY, latencyMs: { min: 40, max: 160 } });
  injectDemoFaults(fake);
  say(`fake Zoho: ${fake.url} (concurrency limit ${DEMO_CONCURRENCY}, 40-160 ms latency, a few injected faults)`);
  const files = await serveFolder(path.join(EXAMPLES_DIR, 'files'));
  say(`file server for URL rows: ${files.url}`);

  const config: Config = loadConfig(
    {
      REDIS_URL: redis.url,
      ZOHO_ACCOUNTS_URL: fake.url,
      ZOHO_API_DOMAIN: fake.url,
      ZOHO_CLIENT_ID: FAKE_CREDENTIALS.clientId,
      ZOHO_CLIENT_SECRET: FAKE_CREDENTIALS.clientSecret,
      ZOHO_REFRESH_TOKEN: FAKE_CREDENTIALS.refreshToken,
      // A queue of its own, so the demo never mixes with real runs on the same Redis.
      ZOHO_ATTACH_QUEUE: `zoho-attach-demo-${stamp}`,
      ZOHO_CONCURRENCY: String(DEMO_CONCURRENCY),
      ZOHO_ATTACH_FILE_ROOTS: EXAMPLES_DIR,
      // The demo's own file server is on loopback; real runs keep this off.
      ZOHO_ATTACH_ALLOW_PRIVATE_URLS: 'true',
      ZOHO_ATTACH_BACKOFF_MS: '200',
      ZOHO_ATTACH_RATE_LIMIT_PAUSE_MS: '200',
      // The fake stores nothing late and lists at once: a short settle keeps the demo to a minute.
      ZOHO_ATTACH_SETTLE_MS: '2000',
      LOG_LEVEL: options.env.LOG_LEVEL ?? 'silent',
    },
    EXAMPLES_DIR,
  );
  const uploadQueue = await UploadQueue.open(config);
  const cleanups: Array<() => Promise<unknown>> = [];
  try {
    const urlManifest = await writeUrlManifest(runDir, files.url);
    const manifests = [path.join(EXAMPLES_DIR, 'accounts.csv'), path.join(EXAMPLES_DIR, 'contacts.jsonl'), urlManifest];
    const summaries: EnqueueSummary[] = [];
    for (const manifest of manifests) {
      const batch = path.basename(manifest).replace(/\.[^.]+$/, '');
      const summary = await enqueueRows(uploadQueue, readManifest(manifest, { baseDir: path.dirname(manifest) }), {
        batch,
        source: manifest,
      });
      summaries.push(summary);
      say(
        `enqueue ${path.relative(process.cwd(), manifest)} → batch ${batch}: ${summary.enqueued} enqueued, ${summary.rejected} rejected`,
      );
      for (const r of summary.rejections) say(`    line ${r.line}: ${r.field ? `${r.field}: ` : ''}${r.reason}`);
    }

    const logger = createLogger({ level: config.logLevel });
    const workerCount = options.workers ?? 2;
    const workers = await Promise.all(
      Array.from({ length: workerCount }, () => startUploadWorker({ config, logger, concurrency: DEMO_CONCURRENCY })),
    );
    cleanups.push(() => Promise.all(workers.map((w) => w.close())));
    say(`workers: ${workerCount} in this process, ${DEMO_CONCURRENCY} uploads in flight at most across all of them`);
    await watchUntilIdle(
      uploadQueue,
      summaries.map((s) => s.batch),
      options.onProgress,
    );
    await Promise.all(workers.map((w) => w.close()));

    const result: DemoResult = { batches: [], stored: 0, duplicates: 0, runDir };
    for (const summary of summaries) {
      const reportPath = path.join(runDir, `${summary.batch}-report.csv`);
      const out = createWriteStream(reportPath);
      await writeReport(uploadQueue.ledger, summary.batch, 'csv', out);
      out.end();
      await finished(out);
      const meta = await uploadQueue.ledger.getBatch(summary.batch);
      result.batches.push({
        name: summary.batch,
        reportPath,
        uploaded: meta?.uploaded ?? 0,
        dead: meta?.dead ?? 0,
        rejected: meta?.rejected ?? 0,
      });
    }

    say('');
    say('dead letters (rows Zoho or the source refused), by error code:');
    for (const group of await groupDeadLetters(uploadQueue)) {
      say(
        `  ${group.code}: ${group.count} — e.g. ${group.sample.batch} line ${group.sample.line}: ${group.messages[0]?.message ?? ''}`,
      );
    }
    const snapshot = fake.inspect();
    const seen = new Map<string, number>();
    for (const a of snapshot.attachments) {
      const key = `${a.module}/${a.recordId}/${a.linkUrl ?? a.fileName}/${a.sha256}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    result.stored = snapshot.attachments.length;
    result.duplicates = [...seen.values()].reduce((sum, n) => sum + n - 1, 0);
    say('');
    say(
      `the fake Zoho now holds ${result.stored} attachments, ${result.duplicates} duplicated; it answered ${describeCounters(snapshot.counters)}`,
    );
    say(
      `peak uploads in flight: ${snapshot.peakInFlight} (limit ${DEMO_CONCURRENCY}); token refreshes: ${snapshot.tokens.refreshes}`,
    );
    for (const b of result.batches) {
      say(
        `batch ${b.name}: ${b.uploaded} uploaded, ${b.dead} dead letters, ${b.rejected} rejected rows → ${path.relative(process.cwd(), b.reportPath)}`,
      );
    }
    if (options.dashboardUntil) await showDashboard(config, options.dashboardUntil, say);
    return result;
  } finally {
    for (const cleanup of cleanups) await cleanup();
    await deleteDemoKeys(uploadQueue, config.queue.name);
    await uploadQueue.close();
    await files.close();
    await fake.close();
    await redis.stop();
  }
}

/** Serves the dashboard on the demo's queue (the port the docs use when free) until `until` resolves. */
async function showDashboard(config: Config, until: Promise<unknown>, say: (text: string) => void): Promise<void> {
  const { startDashboard } = await import('../dashboard/start-dashboard.js');
  const dashboard = await startDashboard({ config, port: DASHBOARD_DEFAULTS.port }).catch(() =>
    startDashboard({ config, port: 0 }),
  );
  say('');
  say(`dashboard: ${dashboard.url}/ — the demo's batches, dead letters and Zoho health. Ctrl-C to stop.`);
  try {
    await until;
  } finally {
    await dashboard.close();
  }
}

/** A 500 here, a short 429 burst there, and one "stored, then 500" — what a real run meets. */
function injectDemoFaults(fake: FakeZoho): void {
  fake.faults.add({ match: { path: 'upload', module: 'Accounts' }, kind: 'error500', times: 2 });
  fake.faults.add({ match: { path: 'upload' }, kind: 'error429', times: 3, skip: 5 });
  fake.faults.add({ match: { path: 'upload', module: 'Contacts' }, kind: 'storeThen500', times: 1 });
}

/** The URL rows: every example file, served by the demo, plus one URL that answers 404. */
async function writeUrlManifest(runDir: string, baseUrl: string): Promise<string> {
  const manifest = path.join(runDir, 'remote-files.csv');
  const lines = [csvLine(['module', 'record_id', 'file', 'title', 'legacy_id'])];
  let n = 0;
  for (const name of await listFiles(path.join(EXAMPLES_DIR, 'files'))) {
    if (name.endsWith('.exe')) continue;
    n++;
    const url = `${baseUrl}/${name.split('/').map(encodeURIComponent).join('/')}`;
    lines.push(
      csvLine(['Leads', `41508680000005${String(n).padStart(5, '0')}`, url, `Remote copy of ${name}`, `R-${n}`]),
    );
  }
  lines.push(
    csvLine(['Leads', '4150868000000599999', `${baseUrl}/no-such-file.pdf`, 'A URL that answers 404', 'R-404']),
  );
  await writeFile(manifest, lines.join(''));
  return manifest;
}

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const names: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) names.push(...(await listFiles(path.join(dir, entry.name), `${prefix}${entry.name}/`)));
    else names.push(`${prefix}${entry.name}`);
  }
  return names.sort();
}

/** Serves a folder's files read-only on loopback. */
async function serveFolder(root: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const relative = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/+/, '');
    const full = path.resolve(root, relative);
    if (!full.startsWith(root + path.sep)) return void res.writeHead(403).end();
    stat(full).then(
      (s) => {
        if (!s.isFile()) return void res.writeHead(404).end();
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': s.size });
        createReadStream(full).pipe(res);
      },
      () => res.writeHead(404).end('not found'),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Reports the batches' progress every quarter second until the queue is idle (twice in a row). */
async function watchUntilIdle(
  uploadQueue: UploadQueue,
  batches: string[],
  onProgress: ((progress: BatchProgress[]) => void) | undefined,
): Promise<void> {
  let idleSeen = 0;
  while (idleSeen < 2) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    idleSeen = (await uploadQueue.isIdle()) ? idleSeen + 1 : 0;
    if (onProgress === undefined) continue;
    const metas = (await Promise.all(batches.map((b) => uploadQueue.ledger.getBatch(b)))).filter(
      (meta) => meta !== undefined,
    );
    onProgress(await readProgress(uploadQueue, metas));
  }
}

function describeCounters(counters: Record<string, number>): string {
  return Object.entries(counters)
    .sort((a, b) => b[1] - a[1])
    .map(([answer, n]) => `${n} × ${answer}`)
    .join(', ');
}

/** Removes every key of the demo's own queue. */
async function deleteDemoKeys(uploadQueue: UploadQueue, queueName: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await uploadQueue.redis.scan(cursor, 'MATCH', `${queueName}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await uploadQueue.redis.del(...keys);
  } while (cursor !== '0');
}
