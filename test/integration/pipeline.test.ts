/**
 * The pipeline against a real Redis and the fake Zoho over HTTP: manifest → queue →
 * worker → ledger, with the faults Zoho really produces.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { reportRows, type ReportRow } from '../../src/ledger/report.js';
import { readManifest } from '../../src/manifest/index.js';
import { groupDeadLetters, retryDeadLetters } from '../../src/queue/dead-letters.js';
import { enqueueRows } from '../../src/queue/enqueue.js';
import type { RowCheckOptions } from '../../src/queue/row-checks.js';
import { uploadJobId } from '../../src/queue/upload-job.js';
import { startUploadWorker } from '../../src/queue/upload-worker.js';
import { UploadQueue } from '../../src/queue/upload-queue.js';
import { createPipelineWorld, type PipelineWorld } from '../helpers/pipeline.js';
import { runWorkersUntilIdle, silentLogger, waitUntilIdle, withQueue } from '../helpers/queue-runs.js';
import { testRedis } from '../helpers/redis.js';

let world: PipelineWorld | undefined;
let fileServer: Server | undefined;
afterEach(async () => {
  await world?.cleanup();
  world = undefined;
  await new Promise<void>((resolve) => (fileServer ? fileServer.close(() => resolve()) : resolve()));
  fileServer = undefined;
});

/** Enqueues a manifest file of the world (with `configEnv` added to its environment). */
function enqueue(
  w: PipelineWorld,
  manifest: string,
  batch: string,
  configEnv: Record<string, string> = {},
  checks?: RowCheckOptions,
) {
  return withQueue(
    w,
    (queue) =>
      enqueueRows(queue, readManifest(manifest, { baseDir: path.dirname(manifest) }), {
        batch,
        source: manifest,
        ...(checks ? { checks } : {}),
      }),
    configEnv,
  );
}

/** For tests of the workers' own refusals: enqueue's source checks would keep those rows out of the queue. */
const WORKERS_CHECK_SOURCES: RowCheckOptions = { sources: false };

/** The batch's report rows. */
async function report(w: PipelineWorld, batch: string): Promise<ReportRow[]> {
  const uploadQueue = await UploadQueue.open(w.config);
  try {
    const rows: ReportRow[] = [];
    for await (const row of reportRows(uploadQueue.ledger, batch)) rows.push(row);
    return rows;
  } finally {
    await uploadQueue.close();
  }
}

/** Serves `files` (name → content) on loopback; returns the base URL. */
async function serveFiles(files: Record<string, string>): Promise<string> {
  fileServer = createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '/').slice(1));
    const content = files[name];
    if (content === undefined) {
      res.writeHead(404).end('not found');
      return;
    }
    res
      .writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': Buffer.byteLength(content) })
      .end(content);
  });
  await new Promise<void>((resolve) => fileServer!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(fileServer.address() as AddressInfo).port}`;
}

/** Every uploaded report row matches exactly one attachment of the fake, and the fake holds nothing else. */
function expectReportMatchesFake(rows: ReportRow[], w: PipelineWorld) {
  const stored = w.fake.inspect().attachments;
  const uploaded = rows.filter((r) => r.status === 'uploaded');
  expect(new Set(uploaded.map((r) => r.attachment_id)).size).toBe(uploaded.length);
  expect(stored.length).toBe(uploaded.length);
  for (const row of uploaded) {
    const attachment = stored.find((a) => a.id === row.attachment_id);
    expect(attachment, `line ${row.line}`).toBeDefined();
    expect(attachment!.module).toBe(row.module);
    expect(attachment!.recordId).toBe(row.record_id);
    if (row.link_url) expect(attachment!.linkUrl).toBe(row.link_url);
    else expect(attachment!.sha256).toBe(row.sha256);
  }
}

describe('the upload pipeline', () => {
  it('uploads local files, URLs and links exactly once each, and the report maps every row to its attachment', async () => {
    world = await createPipelineWorld({ env: { ZOHO_ATTACH_ALLOW_PRIVATE_URLS: 'true' } });
    const base = await serveFiles({ 'remote scan.pdf': 'remote bytes' });
    await world.writeFile('files/contract.pdf', 'contract bytes');
    await world.writeFile('files/photo münchen.jpg', 'photo bytes');
    const manifest = await world.writeFile(
      'm.csv',
      [
        'module,record_id,file,link_url,title,legacy_id',
        'Accounts,1001,files/contract.pdf,,Contract,L-1',
        'Contacts,1002,files/photo münchen.jpg,,"Photo, München",L-2',
        `Deals,1003,${base}/remote%20scan.pdf,,,L-3`,
        'Accounts,1001,,https://example.com/wiki,Wiki,L-4',
      ].join('\n'),
    );
    const summary = await enqueue(world, manifest, 'b1');
    expect(summary).toMatchObject({ rows: 4, enqueued: 4, rejected: 0, skipped: 0 });

    await runWorkersUntilIdle(world, { count: 2 });

    const rows = await report(world, 'b1');
    expect(rows.map((r) => [r.line, r.status, r.extra.legacy_id])).toEqual([
      ['2', 'uploaded', 'L-1'],
      ['3', 'uploaded', 'L-2'],
      ['4', 'uploaded', 'L-3'],
      ['5', 'uploaded', 'L-4'],
    ]);
    expectReportMatchesFake(rows, world);
    const names = world.fake
      .inspect()
      .attachments.map((a) => a.fileName)
      .sort();
    expect(names).toContain('photo münchen.jpg');
    expect(names).toContain('remote scan.pdf');
  });

  it('re-enqueueing the same manifest, in the same or another batch, uploads nothing new', async () => {
    world = await createPipelineWorld();
    await world.writeFile('a.txt', 'a');
    await world.writeFile('b.txt', 'b');
    const manifest = await world.writeFile('m.csv', 'module,record_id,file\nLeads,1,a.txt\nLeads,2,b.txt\n');
    await enqueue(world, manifest, 'first');
    await runWorkersUntilIdle(world);
    expect(world.fake.inspect().attachments).toHaveLength(2);

    expect(await enqueue(world, manifest, 'first')).toMatchObject({
      enqueued: 0,
      skipped: 2,
      nothingNew: true,
      batchDropped: false,
    });
    // A new batch that would hold nothing new is not kept: no empty "0 of 0" batch.
    expect(await enqueue(world, manifest, 'second')).toMatchObject({
      enqueued: 0,
      skipped: 2,
      nothingNew: true,
      batchDropped: true,
    });
    await runWorkersUntilIdle(world);
    expect(world.fake.inspect().attachments).toHaveLength(2);
    expect((await report(world, 'first')).map((r) => r.status)).toEqual(['uploaded', 'uploaded']);
    expect(await report(world, 'second')).toEqual([]);
  });

  it('the same row twice in one manifest is uploaded once', async () => {
    world = await createPipelineWorld();
    await world.writeFile('a.txt', 'a');
    const manifest = await world.writeFile('m.csv', 'module,record_id,file\nLeads,1,a.txt\nLeads,1,a.txt\n');
    expect(await enqueue(world, manifest, 'dup')).toMatchObject({ enqueued: 1, alreadyQueued: 1 });
    await runWorkersUntilIdle(world);
    expect(world.fake.inspect().attachments).toHaveLength(1);
    const rows = await report(world, 'dup');
    expect(rows.map((r) => r.status)).toEqual(['uploaded', 'uploaded']);
    expect(rows[0]!.attachment_id).toBe(rows[1]!.attachment_id);
  });

  it('dead-letters rows that cannot succeed, with their code, without retrying them; dlq retry re-runs them after a fix', async () => {
    world = await createPipelineWorld();
    await world.writeFile('ok.txt', 'ok');
    await world.writeFile('tool.exe', 'MZ');
    await world.writeFile('denied.txt', 'x');
    const manifest = await world.writeFile(
      'm.csv',
      [
        'module,record_id,file',
        'Leads,1,ok.txt',
        'Widgets,2,ok.txt', // the fake does not know this module
        'Leads,3,tool.exe',
        'Leads,4,missing.txt',
        'Leads,5,/etc/hostname', // outside the file roots
        'Leads,6,denied.txt',
      ].join('\n'),
    );
    world.fake.faults.add({ match: { recordId: '6', path: 'upload' }, kind: 'noPermission', times: 1 });
    await enqueue(world, manifest, 'dl', {}, WORKERS_CHECK_SOURCES);
    await runWorkersUntilIdle(world);

    const rows = await report(world, 'dl');
    expect(rows.map((r) => [r.record_id, r.status, r.error_code, r.attempts])).toEqual([
      ['1', 'uploaded', '', '1'],
      ['2', 'dead', 'INVALID_MODULE', '1'],
      ['3', 'dead', 'SOURCE_FORBIDDEN_TYPE', '1'],
      ['4', 'dead', 'SOURCE_NOT_FOUND', '1'],
      ['5', 'dead', 'SOURCE_OUTSIDE_ROOTS', '1'],
      ['6', 'dead', 'NO_PERMISSION', '1'],
    ]);
    // Permanent failures are not retried: one upload call per Zoho-rejected row.
    expect(world.fake.inspect().calls.upload).toBe(3);

    const uploadQueue = await UploadQueue.open(world.config);
    try {
      const groups = await groupDeadLetters(uploadQueue, { batch: 'dl' });
      expect(groups.map((g) => [g.code, g.count]).sort()).toEqual(
        [
          ['INVALID_MODULE', 1],
          ['NO_PERMISSION', 1],
          ['SOURCE_FORBIDDEN_TYPE', 1],
          ['SOURCE_NOT_FOUND', 1],
          ['SOURCE_OUTSIDE_ROOTS', 1],
        ].sort(),
      );
      expect(groups.find((g) => g.code === 'NO_PERMISSION')!.sample.recordId).toBe('6');

      await world.writeFile('missing.txt', 'now it exists');
      expect(await retryDeadLetters(uploadQueue, { code: 'SOURCE_NOT_FOUND' })).toBe(1);
      expect(await retryDeadLetters(uploadQueue, { code: 'NO_PERMISSION' })).toBe(1);
    } finally {
      await uploadQueue.close();
    }
    await runWorkersUntilIdle(world);
    const after = await report(world, 'dl');
    expect(after.filter((r) => r.status === 'uploaded').map((r) => r.record_id)).toEqual(['1', '4', '6']);
    expectReportMatchesFake(after, world);
  });

  it.each(['storeThen500', 'resetAfterStore'] as const)(
    'after "%s" the next attempt adopts the stored attachment instead of uploading twice',
    async (kind) => {
      world = await createPipelineWorld();
      await world.writeFile('a.pdf', 'stored once');
      const manifest = await world.writeFile(
        'm.csv',
        'module,record_id,file,link_url\nLeads,77,a.pdf,\nLeads,78,,https://example.com/x\n',
      );
      world.fake.faults.add({ match: { path: 'upload' }, kind, times: 2 });
      await enqueue(world, manifest, 'amb');
      await runWorkersUntilIdle(world);

      const stored = world.fake.inspect().attachments;
      expect(stored.filter((a) => a.recordId === '77')).toHaveLength(1);
      expect(stored.filter((a) => a.recordId === '78')).toHaveLength(1);
      const rows = await report(world, 'amb');
      expect(rows.map((r) => r.status)).toEqual(['uploaded', 'uploaded']);
      expectReportMatchesFake(rows, world);
      const uploadQueue = await UploadQueue.open(world.config);
      try {
        const fileJob = uploadJobId({
          module: 'Leads',
          recordId: '77',
          target: { kind: 'file', path: path.join(world.dir, 'a.pdf') },
        });
        const linkJob = uploadJobId({
          module: 'Leads',
          recordId: '78',
          target: { kind: 'link', url: 'https://example.com/x' },
        });
        const [fileItem, linkItem] = await uploadQueue.ledger.getItems([fileJob, linkJob]);
        // Adopted by the quick in-attempt retry, so still the first BullMQ attempt.
        expect(fileItem).toMatchObject({ status: 'uploaded', how: 'adopted', attempts: 1 });
        expect(fileItem!.sha256).toBe(stored.find((a) => a.recordId === '77')!.sha256);
        expect(linkItem).toMatchObject({ status: 'uploaded', how: 'adopted' });
      } finally {
        await uploadQueue.close();
      }
    },
  );

  it('a hang past the request timeout is retried and uploads once', async () => {
    world = await createPipelineWorld({ env: { ZOHO_REQUEST_TIMEOUT_MS: '500' } });
    await world.writeFile('a.txt', 'a');
    const manifest = await world.writeFile('m.csv', 'module,record_id,file\nLeads,5,a.txt\n');
    world.fake.faults.add({ match: { path: 'upload' }, kind: 'hang', times: 1 });
    await enqueue(world, manifest, 'hang');
    await runWorkersUntilIdle(world);
    expect(world.fake.inspect().attachments).toHaveLength(1);
    expect((await report(world, 'hang'))[0]!.status).toBe('uploaded');
  });

  it('transient 5xx are retried; after the last attempt the row is dead with the last error', async () => {
    world = await createPipelineWorld({ env: { ZOHO_ATTACH_ATTEMPTS: '2' } });
    await world.writeFile('a.txt', 'a');
    await world.writeFile('b.txt', 'b');
    const manifest = await world.writeFile('m.csv', 'module,record_id,file\nLeads,1,a.txt\nLeads,2,b.txt\n');
    world.fake.faults.add({ match: { recordId: '1', path: 'upload' }, kind: 'error500', times: 2 });
    world.fake.faults.add({ match: { recordId: '2', path: 'upload' }, kind: 'error500', times: Infinity });
    await enqueue(world, manifest, 'r');
    await runWorkersUntilIdle(world);
    const rows = await report(world, 'r');
    expect(rows.map((r) => [r.status, r.error_code])).toEqual([
      ['uploaded', ''],
      ['dead', 'INTERNAL_ERROR'],
    ]);
    expect(world.fake.inspect().attachments).toHaveLength(1);
  });

  it('a 429 slows the queue down and spends no attempt', async () => {
    world = await createPipelineWorld({ env: { ZOHO_ATTACH_ATTEMPTS: '1', ZOHO_ATTACH_RATE_LIMIT_PAUSE_MS: '50' } });
    await world.writeFile('a.txt', 'a');
    const manifest = await world.writeFile('m.csv', 'module,record_id,file\nLeads,1,a.txt\n');
    world.fake.faults.add({ match: { path: 'upload' }, kind: 'error429', times: 3 });
    await enqueue(world, manifest, 'rl');
    await runWorkersUntilIdle(world);
    const rows = await report(world, 'rl');
    expect(rows[0]!.status).toBe('uploaded');
    const uploadQueue = await UploadQueue.open(world.config);
    try {
      expect((await uploadQueue.ledger.getBatch('rl'))!.rateLimited).toBe(3);
    } finally {
      await uploadQueue.close();
    }
  });

  it('an expired token is refreshed once for all and never dead-letters a row', async () => {
    world = await createPipelineWorld({ fake: { latencyMs: 100 } });
    const lines = ['module,record_id,file'];
    for (let i = 1; i <= 30; i++) {
      await world.writeFile(`f${i}.txt`, `file ${i}`);
      lines.push(`Leads,${i},f${i}.txt`);
    }
    const manifest = await world.writeFile('m.csv', lines.join('\n'));
    await enqueue(world, manifest, 'tok');
    await runWorkersUntilIdle(world, {
      count: 2,
      env: { ZOHO_CONCURRENCY: '4' },
      // Expire every token while rows are still waiting, so that later calls meet INVALID_TOKEN.
      during: async () => {
        await expect
          .poll(() => world!.fake.inspect().attachments.length, { timeout: 10_000, interval: 10 })
          .toBeGreaterThanOrEqual(4);
        world!.fake.expireAllTokens();
      },
    });
    const rows = await report(world, 'tok');
    expect(rows.every((r) => r.status === 'uploaded')).toBe(true);
    expectReportMatchesFake(rows, world);
    const fake = world.fake.inspect();
    expect(fake.attachments.length).toBe(30);
    // The expiry was met (Zoho answered INVALID_TOKEN), and answered with one refresh for both workers.
    expect(fake.counters['401 INVALID_TOKEN']).toBeGreaterThanOrEqual(1);
    expect(fake.tokens.refreshes).toBe(2);
  });

  it('a revoked refresh token pauses the queue with a reason instead of dead-lettering; resume goes on', async () => {
    world = await createPipelineWorld();
    await world.writeFile('a.txt', 'a');
    await world.writeFile('b.txt', 'b');
    const manifest = await world.writeFile('m.csv', 'module,record_id,file\nLeads,1,a.txt\nLeads,2,b.txt\n');
    await enqueue(world, manifest, 'sys');
    world.fake.revokeRefreshToken(world.env.ZOHO_REFRESH_TOKEN!);

    const config = world.config;
    const worker = await startUploadWorker({ config, logger: silentLogger });
    try {
      const uploadQueue = worker.uploadQueue;
      await expect.poll(async () => (await uploadQueue.pauseControl.status()).paused, { timeout: 5_000 }).toBe(true);
      const status = await uploadQueue.pauseControl.status();
      expect(status.reason?.code).toBe('REFRESH_INVALID_CODE');
      expect(status.reason?.hint).toMatch(/ZOHO_REFRESH_TOKEN/);
      expect(JSON.stringify(status)).not.toContain(world.env.ZOHO_REFRESH_TOKEN);
      expect(await uploadQueue.queue.getFailedCount()).toBe(0);

      world.fake.restoreRefreshToken(world.env.ZOHO_REFRESH_TOKEN!);
      await uploadQueue.pauseControl.resume();
      // Jobs parked as delayed come back within a few seconds.
      await expect.poll(() => world!.fake.inspect().attachments.length, { timeout: 10_000 }).toBe(2);
    } finally {
      await worker.close();
    }
    expect(world.fake.inspect().attachments).toHaveLength(2);
    expect((await report(world, 'sys')).map((r) => r.status)).toEqual(['uploaded', 'uploaded']);
  });

  it('keeps uploads in flight at or under ZOHO_CONCURRENCY across workers', async () => {
    world = await createPipelineWorld({ fake: { concurrencyLimit: 3, latencyMs: 30 }, env: { ZOHO_CONCURRENCY: '3' } });
    const lines = ['module,record_id,file'];
    for (let i = 1; i <= 40; i++) {
      await world.writeFile(`f${i}.txt`, `file ${i}`);
      lines.push(`Leads,${i},f${i}.txt`);
    }
    const manifest = await world.writeFile('m.csv', lines.join('\n'));
    await enqueue(world, manifest, 'cc');
    await runWorkersUntilIdle(world, { count: 3, env: {} });
    const snapshot = world.fake.inspect();
    expect(snapshot.attachments).toHaveLength(40);
    expect(snapshot.peakInFlight).toBeLessThanOrEqual(3);
    expect(snapshot.counters['429 TOO_MANY_REQUESTS'] ?? 0).toBe(0);
  });

  it('refuses URL sources on private addresses unless allowed', async () => {
    world = await createPipelineWorld();
    const base = await serveFiles({ 'x.pdf': 'x' });
    const manifest = await world.writeFile(
      'm.csv',
      `module,record_id,file\nLeads,1,${base}/x.pdf\nLeads,2,http://169.254.169.254/latest/meta-data\n`,
    );
    await enqueue(world, manifest, 'ssrf', {}, WORKERS_CHECK_SOURCES);
    await runWorkersUntilIdle(world);
    const rows = await report(world, 'ssrf');
    expect(rows.map((r) => [r.status, r.error_code])).toEqual([
      ['dead', 'SOURCE_URL_BLOCKED'],
      ['dead', 'SOURCE_URL_BLOCKED'],
    ]);
    expect(world.fake.inspect().calls.upload).toBe(0);
  });
});

describe('the upload pipeline, continued', () => {
  it('works under a Redis Cluster hash-tag queue name', async () => {
    world = await createPipelineWorld();
    const tagged = `{${world.queueName}}`;
    const env = { ZOHO_ATTACH_QUEUE: tagged };
    await world.writeFile('a.txt', 'a');
    const manifest = await world.writeFile('m.csv', 'module,record_id,file\nLeads,1,a.txt\n');
    await enqueue(world, manifest, 'tagged', env);
    await runWorkersUntilIdle(world, { env });
    expect(world.fake.inspect().attachments).toHaveLength(1);
    const redis = testRedis();
    try {
      const keys = await redis.keys(`${tagged}*`);
      expect(keys.length).toBeGreaterThan(0);
      // Every key of the tool, BullMQ's and the ledger's, carries the hash tag.
      expect(keys.every((k) => k.startsWith(`${tagged}:`))).toBe(true);
    } finally {
      redis.disconnect();
    }
  });

  it('an access token without the attachments scope pauses the queue (systemic), it does not dead-letter rows', async () => {
    world = await createPipelineWorld();
    const token = world.fake.issueAccessToken({ scopes: ['ZohoCRM.modules.Leads.READ'] });
    const env = { ZOHO_ACCESS_TOKEN: token, ZOHO_CLIENT_ID: '', ZOHO_CLIENT_SECRET: '', ZOHO_REFRESH_TOKEN: '' };
    await world.writeFile('a.txt', 'a');
    const manifest = await world.writeFile('m.csv', 'module,record_id,file\nLeads,1,a.txt\nLeads,2,a.txt\n');
    await enqueue(world, manifest, 'scope', env);
    const worker = await startUploadWorker({
      config: loadConfig({ ...world.env, ...env }, world.dir),
      logger: silentLogger,
    });
    try {
      await expect
        .poll(async () => (await worker.uploadQueue.pauseControl.status()).paused, { timeout: 5_000 })
        .toBe(true);
      const status = await worker.uploadQueue.pauseControl.status();
      expect(status.reason).toMatchObject({ code: 'OAUTH_SCOPE_MISMATCH' });
      expect(status.reason!.hint).toMatch(/scope/);
      expect(JSON.stringify(status)).not.toContain(token);
      expect(await worker.uploadQueue.queue.getFailedCount()).toBe(0);
    } finally {
      await worker.close();
    }
    expect(world.fake.inspect().attachments).toHaveLength(0);
  });

  it('survives its Redis connections being killed mid-run: workers reconnect and nothing is lost or doubled', async () => {
    world = await createPipelineWorld({ fake: { latencyMs: 15 } });
    const lines = ['module,record_id,file'];
    for (let i = 1; i <= 60; i++) {
      await world.writeFile(`f${i}.txt`, `file ${i}`);
      lines.push(`Leads,${i},f${i}.txt`);
    }
    const manifest = await world.writeFile('m.csv', lines.join('\n'));
    await enqueue(world, manifest, 'kill');
    const admin = testRedis();
    let killed = 0;
    try {
      await runWorkersUntilIdle(world, {
        count: 2,
        timeoutMs: 40_000,
        during: async () => {
          await expect
            .poll(() => world!.fake.inspect().attachments.length, { timeout: 20_000, interval: 20 })
            .toBeGreaterThanOrEqual(15);
          const clients = (await admin.client('LIST')) as string;
          for (const line of clients.split('\n')) {
            const id = /\bid=(\d+)/.exec(line)?.[1];
            const name = /\bname=(\S*)/.exec(line)?.[1] ?? '';
            if (id && name.includes(world!.queueName)) killed += Number(await admin.client('KILL', 'ID', id));
          }
        },
      });
    } finally {
      admin.disconnect();
    }
    expect(killed).toBeGreaterThanOrEqual(4);
    const rows = await report(world, 'kill');
    expect(rows.every((r) => r.status === 'uploaded')).toBe(true);
    expectReportMatchesFake(rows, world);
  });
});

describe('the posting lease', () => {
  it('a job recovered as stalled while its first run is still sending waits for that post instead of posting a copy', async () => {
    world = await createPipelineWorld({ fake: { latencyMs: 6_000 }, env: { ZOHO_REQUEST_TIMEOUT_MS: '20000' } });
    await world.writeFile('big.pdf', 'still being sent');
    const manifest = await world.writeFile('m.csv', 'module,record_id,file\nLeads,1,big.pdf\n');
    await enqueue(world, manifest, 'lease');
    const jobId = uploadJobId({
      module: 'Leads',
      recordId: '1',
      target: { kind: 'file', path: path.join(world.dir, 'big.pdf') },
    });
    const admin = testRedis();
    const outcomes: string[] = [];
    try {
      const config = world.config;
      const workers = await Promise.all(
        [0, 1].map(() =>
          startUploadWorker({ config, logger: silentLogger, onOutcome: (o) => outcomes.push(o.result) }),
        ),
      );
      try {
        // The first run posts; its job lock is then lost (as in a Redis outage longer than the lock),
        // so BullMQ recovers the job as stalled and runs it again while the first post is in flight.
        await expect.poll(() => world!.fake.inspect().inFlight, { timeout: 10_000, interval: 20 }).toBeGreaterThan(0);
        await admin.del(`${world.queueName}:uploads:${jobId}:lock`);
        await waitUntilIdle(workers[0]!.uploadQueue, 20_000);
      } finally {
        await Promise.all(workers.map((w) => w.close()));
      }
    } finally {
      admin.disconnect();
    }
    expect(outcomes).toContain('deferred');
    expect(world.fake.inspect().attachments).toHaveLength(1);
    expect((await report(world, 'lease'))[0]).toMatchObject({ status: 'uploaded' });
  });
});
