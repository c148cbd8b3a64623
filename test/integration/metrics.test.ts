/**
 * The worker's Prometheus endpoint after a small run against the fake Zoho and a real Redis:
 * counters, the latency histogram and the queue gauges hold what happened, and nothing in
 * the text identifies a row or leaks a secret.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { FAKE_CREDENTIALS } from '../../src/fake-zoho/index.js';
import { readManifest } from '../../src/manifest/index.js';
import {
  createMetricsRegistry,
  createQueueMetrics,
  createUploadMetrics,
  startMetricsServer,
  type MetricsServer,
} from '../../src/metrics/index.js';
import { enqueueRows } from '../../src/queue/enqueue.js';
import { startUploadWorker, type UploadWorker } from '../../src/queue/upload-worker.js';
import { UploadQueue } from '../../src/queue/upload-queue.js';
import { keyNames } from '../../src/shared/key-names.js';
import { createLogger } from '../../src/shared/logger.js';
import { createPipelineWorld, type PipelineWorld } from '../helpers/pipeline.js';
import { parsePrometheusText, sampleValue, type PrometheusSample } from '../helpers/prometheus-text.js';
import { testRedis } from '../helpers/redis.js';

const silentLogger = createLogger({ level: 'silent', pretty: false });

let world: PipelineWorld | undefined;
let running: UploadWorker | undefined;
let server: MetricsServer | undefined;
afterEach(async () => {
  await server?.close();
  await running?.close();
  await world?.cleanup();
  [world, running, server] = [undefined, undefined, undefined];
});

async function scrape(url: string): Promise<{ text: string; samples: PrometheusSample[] }> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  const text = await response.text();
  return { text, samples: parsePrometheusText(text) };
}

describe('worker metrics', () => {
  it('counts outcomes, bytes, latency, 429s, retries and refreshes, and reports the queue on scrape', async () => {
    // Every answer takes 300 ms, so uploads are seen in flight and no upload lands in a bucket under 0.25 s.
    world = await createPipelineWorld({ fake: { latencyMs: 300 } });
    const files = { 'a.txt': 'alpha', 'b.txt': 'bravo-bravo', 'c.txt': 'charlie-charlie-charlie' };
    for (const [name, content] of Object.entries(files)) await world.writeFile(name, content);
    const manifest = await world.writeFile(
      'm.csv',
      [
        'module,record_id,file',
        'Leads,4150868000000224001,a.txt',
        'Leads,4150868000000224002,b.txt',
        'Leads,4150868000000224003,c.txt',
        'Widgets,4150868000000224004,a.txt',
      ].join('\n'),
    );
    // One attempt fails 500 three times: two quick retries inside the attempt, then one BullMQ retry (each counted); one upload meets a 429.
    world.fake.faults.add({ match: { recordId: '4150868000000224002', path: 'upload' }, kind: 'error500', times: 3 });
    world.fake.faults.add({ match: { recordId: '4150868000000224003', path: 'upload' }, kind: 'error429', times: 1 });

    const config = loadConfig({ ...world.env, ZOHO_ATTACH_RATE_LIMIT_PAUSE_MS: '100' }, world.dir);
    const producer = await UploadQueue.open(config);
    try {
      await enqueueRows(producer, readManifest(manifest, { baseDir: path.dirname(manifest) }), {
        batch: 'metrics-batch',
        source: manifest,
      });
    } finally {
      await producer.close();
    }

    const registry = createMetricsRegistry();
    const uploadMetrics = createUploadMetrics(registry);
    server = await startMetricsServer({ port: 0, registry });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    running = await startUploadWorker({ config, logger: silentLogger, ...uploadMetrics.workerHooks });
    uploadMetrics.trackInFlight(() => running!.inFlight());
    createQueueMetrics(running.uploadQueue, registry);

    // While uploads run: in flight for this process and for the queue.
    let seenInFlight = false;
    for (let deadline = Date.now() + 10_000; !seenInFlight && Date.now() < deadline;) {
      const { samples } = await scrape(server.url);
      seenInFlight =
        (sampleValue(samples, 'zoho_attach_process_uploads_in_flight') ?? 0) >= 1 &&
        (sampleValue(samples, 'zoho_attach_uploads_in_flight') ?? 0) >= 1;
    }
    expect(seenInFlight).toBe(true);

    await running.uploadQueue.waitUntilIdle({ pollMs: 100, timeoutMs: 20_000 });

    const { text, samples } = await scrape(server.url);
    const value = (name: string, labels: Record<string, string> = {}) => sampleValue(samples, name, labels);
    expect({
      uploaded: value('zoho_attach_uploads_total', { outcome: 'uploaded' }),
      dead: value('zoho_attach_uploads_total', { outcome: 'dead' }),
      retry: value('zoho_attach_uploads_total', { outcome: 'retry' }),
      rateLimited: value('zoho_attach_uploads_total', { outcome: 'rate-limited' }),
      adopted: value('zoho_attach_uploads_total', { outcome: 'adopted' }),
      alreadyUploaded: value('zoho_attach_uploads_total', { outcome: 'already-uploaded' }),
      paused: value('zoho_attach_uploads_total', { outcome: 'paused' }),
    }).toEqual({ uploaded: 3, dead: 1, retry: 3, rateLimited: 1, adopted: 0, alreadyUploaded: 0, paused: 0 });
    const totalBytes = Object.values(files).reduce((sum, content) => sum + Buffer.byteLength(content), 0);
    expect(value('zoho_attach_uploaded_bytes_total')).toBe(totalBytes);
    expect(value('zoho_attach_rate_limited_total')).toBe(1);
    expect(value('zoho_attach_retries_total')).toBe(3);
    expect(value('zoho_attach_token_refreshes_total')).toBe(world.fake.inspect().tokens.refreshes);
    expect(value('zoho_attach_token_refreshes_total')).toBe(1);

    // The histogram is in seconds: three uploads, each slower than the fake's 300 ms, none slower than a minute.
    const uploaded = { outcome: 'uploaded' };
    expect(value('zoho_attach_upload_duration_seconds_count', uploaded)).toBe(3);
    expect(value('zoho_attach_upload_duration_seconds_bucket', { ...uploaded, le: '0.25' })).toBe(0);
    expect(value('zoho_attach_upload_duration_seconds_bucket', { ...uploaded, le: '60' })).toBe(3);
    expect(value('zoho_attach_upload_duration_seconds_bucket', { ...uploaded, le: '+Inf' })).toBe(3);
    const seconds = value('zoho_attach_upload_duration_seconds_sum', uploaded) ?? 0;
    expect(seconds).toBeGreaterThan(0.9);
    expect(seconds).toBeLessThan(60);

    expect({
      waiting: value('zoho_attach_queue_jobs', { state: 'waiting' }),
      active: value('zoho_attach_queue_jobs', { state: 'active' }),
      delayed: value('zoho_attach_queue_jobs', { state: 'delayed' }),
      failed: value('zoho_attach_queue_jobs', { state: 'failed' }),
      inFlight: value('zoho_attach_uploads_in_flight'),
      processInFlight: value('zoho_attach_process_uploads_in_flight'),
      paused: value('zoho_attach_queue_paused'),
      redisUp: value('zoho_attach_redis_up'),
    }).toEqual({
      waiting: 0,
      active: 0,
      delayed: 0,
      failed: 1,
      inFlight: 0,
      processInFlight: 0,
      paused: 0,
      redisUp: 1,
    });

    // Node's default process metrics, under their standard names.
    expect(value('process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(value('nodejs_heap_size_used_bytes')).toBeGreaterThan(0);

    // No row data (record ids, batch, file names) in any label, and no secret anywhere.
    const redis = testRedis();
    const storedToken = await redis.get(keyNames(world.queueName).oauth.token);
    redis.disconnect();
    const accessToken = (JSON.parse(storedToken ?? '{}') as { accessToken?: string }).accessToken;
    expect(accessToken).toMatch(/\S{10,}/);
    for (const forbidden of [
      '4150868000000224',
      'metrics-batch',
      'a.txt',
      world.queueName,
      FAKE_CREDENTIALS.clientSecret,
      FAKE_CREDENTIALS.refreshToken,
      FAKE_CREDENTIALS.clientId,
      accessToken!,
    ]) {
      expect(text).not.toContain(forbidden);
    }
    const labelNames = new Set(
      samples.filter((s) => s.name.startsWith('zoho_attach_')).flatMap((s) => Object.keys(s.labels)),
    );
    expect([...labelNames].sort()).toEqual(['le', 'outcome', 'state']);
  });

  it('counts refreshes that fail, by code, and serves metrics only at /metrics', async () => {
    world = await createPipelineWorld();
    world.fake.revokeRefreshToken(FAKE_CREDENTIALS.refreshToken);
    await world.writeFile('a.txt', 'alpha');
    const manifest = await world.writeFile('m.csv', 'module,record_id,file\nLeads,1,a.txt\n');
    const producer = await UploadQueue.open(world.config);
    try {
      await enqueueRows(producer, readManifest(manifest, { baseDir: world.dir }), {
        batch: 'revoked',
        source: manifest,
      });
    } finally {
      await producer.close();
    }

    const registry = createMetricsRegistry();
    const uploadMetrics = createUploadMetrics(registry);
    running = await startUploadWorker({ config: world.config, logger: silentLogger, ...uploadMetrics.workerHooks });
    createQueueMetrics(running.uploadQueue, registry);
    server = await startMetricsServer({ port: 0, host: '127.0.0.1', registry });

    // A revoked refresh token is systemic: the queue pauses and says so.
    let samples: PrometheusSample[] = [];
    for (let deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      samples = (await scrape(server.url)).samples;
      if (sampleValue(samples, 'zoho_attach_queue_paused') === 1) break;
    }
    expect(sampleValue(samples, 'zoho_attach_queue_paused')).toBe(1);
    expect(sampleValue(samples, 'zoho_attach_token_refresh_failures_total', { code: 'REFRESH_INVALID_CODE' })).toBe(1);
    expect(sampleValue(samples, 'zoho_attach_token_refreshes_total')).toBe(0);
    expect(sampleValue(samples, 'zoho_attach_uploads_total', { outcome: 'paused' })).toBeGreaterThanOrEqual(1);

    const elsewhere = await fetch(server.url.replace('/metrics', '/'));
    expect(elsewhere.status).toBe(404);
    const post = await fetch(server.url, { method: 'POST' });
    expect(post.status).toBe(405);
  });
});
