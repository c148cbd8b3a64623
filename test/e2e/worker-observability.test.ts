/**
 * What an operator sees of a worker process: one JSON log line per upload outcome, with the
 * fields to find the row, and no secret anywhere; and the `--metrics-port` endpoint.
 */
import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { FAKE_CREDENTIALS } from '../../src/fake-zoho/index.js';
import { keyNames } from '../../src/shared/key-names.js';
import { collect, createPipelineWorld, runCli, spawnCli, type PipelineWorld } from '../helpers/pipeline.js';
import { parsePrometheusText, sampleValue } from '../helpers/prometheus-text.js';
import { testRedis } from '../helpers/redis.js';

let world: PipelineWorld | undefined;
afterEach(async () => {
  await world?.cleanup();
  world = undefined;
});

/** Every stderr line as JSON: a worker without a terminal writes nothing else. */
function jsonLines(stderr: string): Array<Record<string, unknown>> {
  return stderr
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`not a JSON log line: ${line}`);
      }
    });
}

/** The shared access token the workers used (it stays in Redis until it expires). */
async function sharedAccessToken(w: PipelineWorld): Promise<string> {
  const redis = testRedis();
  try {
    const stored = JSON.parse((await redis.get(keyNames(w.queueName).oauth.token)) ?? '{}') as { accessToken?: string };
    expect(stored.accessToken).toMatch(/\S{10,}/);
    return stored.accessToken!;
  } finally {
    redis.disconnect();
  }
}

describe('worker logs', () => {
  it('logs one JSON "upload outcome" line per try of an upload, with batch, job, module, record, attempt, duration, bytes and the attachment id or error code, and no secret', async () => {
    world = await createPipelineWorld();
    await world.writeFile('a.txt', 'alpha');
    await world.writeFile('b.txt', 'bravo-bravo');
    const manifest = await world.writeFile(
      'm.csv',
      [
        'module,record_id,file,link_url',
        'Leads,101,a.txt,',
        'Contacts,102,b.txt,',
        'Leads,103,,https://example.com/wiki',
        'Widgets,104,a.txt,',
      ].join('\n'),
    );
    // Record 102's first attempt fails (500 three times): a retry line per try (two quick retries, then
    // BullMQ's retry), then an upload line.
    world.fake.faults.add({ match: { recordId: '102', path: 'upload' }, kind: 'error500', times: 3 });
    expect((await runCli(['enqueue', manifest, '--batch', 'logs'], world.env, world.dir)).code).toBe(0);

    const worker = await runCli(['worker', '--until-idle'], { ...world.env, LOG_LEVEL: 'info' }, world.dir);
    expect(worker.code, worker.stderr).toBe(0);
    expect(worker.stdout).toBe('');
    const lines = jsonLines(worker.stderr);
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['worker started', 'worker stopped']));

    const outcomes = lines.filter((l) => l.msg === 'upload outcome');
    const attachments = new Map(world.fake.inspect().attachments.map((a) => [a.recordId, a.id]));
    const byRecord = (recordId: string) => outcomes.filter((l) => l.recordId === recordId);
    for (const line of outcomes) {
      expect(line).toMatchObject({
        batch: 'logs',
        jobId: expect.stringMatching(/\S/),
        module: expect.any(String),
        attempt: expect.any(Number),
        durationMs: expect.any(Number),
      });
    }
    expect(byRecord('101')).toEqual([
      expect.objectContaining({
        module: 'Leads',
        attempt: 1,
        outcome: 'uploaded',
        bytes: 5,
        attachmentId: attachments.get('101'),
        level: 30,
      }),
    ]);
    const retry = expect.objectContaining({
      module: 'Contacts',
      attempt: 1,
      outcome: 'retry',
      errorCode: 'INTERNAL_ERROR',
    });
    expect(byRecord('102')).toEqual([
      retry,
      retry,
      retry,
      expect.objectContaining({
        module: 'Contacts',
        attempt: 2,
        outcome: 'uploaded',
        bytes: 11,
        attachmentId: attachments.get('102'),
      }),
    ]);
    expect(byRecord('103')).toEqual([
      expect.objectContaining({ outcome: 'uploaded', attachmentId: attachments.get('103') }),
    ]);
    expect(byRecord('104')).toEqual([
      expect.objectContaining({ module: 'Widgets', outcome: 'dead', errorCode: 'INVALID_MODULE', level: 40 }),
    ]);
    expect(outcomes).toHaveLength(7);
    expect(new Set(outcomes.map((l) => l.jobId)).size).toBe(4);

    const everything = worker.stdout + worker.stderr;
    for (const secret of [
      FAKE_CREDENTIALS.clientSecret,
      FAKE_CREDENTIALS.refreshToken,
      await sharedAccessToken(world),
      'Zoho-oauthtoken',
    ]) {
      expect(everything).not.toContain(secret);
    }
  });

  it('LOG_LEVEL sets the level', async () => {
    world = await createPipelineWorld();
    const quiet = await runCli(['worker', '--until-idle'], { ...world.env, LOG_LEVEL: 'warn' }, world.dir);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).toBe('');
    const chatty = await runCli(['worker', '--until-idle'], { ...world.env, LOG_LEVEL: 'debug' }, world.dir);
    expect(jsonLines(chatty.stderr).map((l) => l.msg)).toContain('worker started');
  });
});

describe('worker --metrics-port', () => {
  it('serves Prometheus metrics while it runs, at the address it logs', async () => {
    world = await createPipelineWorld();
    await world.writeFile('a.txt', 'alpha');
    const manifest = await world.writeFile('m.csv', 'module,record_id,file\nLeads,201,a.txt\n');
    expect((await runCli(['enqueue', manifest], world.env, world.dir)).code).toBe(0);

    const child = spawnCli(['worker', '--metrics-port', '0'], { ...world.env, LOG_LEVEL: 'info' }, world.dir);
    const finished = collect(child);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let url: string | undefined;
    for (
      let deadline = Date.now() + 10_000;
      url === undefined && Date.now() < deadline;
      await new Promise((r) => setTimeout(r, 50))
    ) {
      url = jsonLines(stderr.slice(0, stderr.lastIndexOf('\n') + 1)).find((l) => l.msg === 'worker started')
        ?.metricsUrl as string | undefined;
    }
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);

    let uploaded: number | undefined;
    for (
      let deadline = Date.now() + 10_000;
      uploaded !== 1 && Date.now() < deadline;
      await new Promise((r) => setTimeout(r, 100))
    ) {
      uploaded = sampleValue(parsePrometheusText(await (await fetch(url!)).text()), 'zoho_attach_uploads_total', {
        outcome: 'uploaded',
      });
    }
    expect(uploaded).toBe(1);

    child.kill('SIGTERM');
    const result = await finished;
    expect(result.code, result.stderr).toBe(0);
    await expect(fetch(url!)).rejects.toThrow();
  });

  it('refuses --metrics-host without --metrics-port', async () => {
    const result = await runCli(['worker', '--metrics-host', '0.0.0.0'], {}, os.tmpdir());
    expect(result.code).toBe(2); // a usage error
    expect(result.stderr).toContain('--metrics-host needs --metrics-port');
  });
});

describe('dashboard --metrics-port', () => {
  it('serves the queue gauges while the dashboard runs', async () => {
    world = await createPipelineWorld();
    await world.writeFile('a.txt', 'alpha');
    const manifest = await world.writeFile('m.csv', 'module,record_id,file\nLeads,301,a.txt\nLeads,302,a.txt\n');
    expect((await runCli(['enqueue', manifest], world.env, world.dir)).code).toBe(0);

    const child = spawnCli(['dashboard', '--port', '0', '--metrics-port', '0'], world.env, world.dir);
    const finished = collect(child);
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    let url: string | undefined;
    for (
      let deadline = Date.now() + 10_000;
      url === undefined && Date.now() < deadline;
      await new Promise((r) => setTimeout(r, 50))
    ) {
      url = /metrics at (\S+)/.exec(stdout)?.[1];
    }
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const samples = parsePrometheusText(await (await fetch(url!)).text());
    // No worker runs: the rows wait in the backlog, none is a job yet.
    expect(sampleValue(samples, 'zoho_attach_backlog_rows', {})).toBe(2);
    expect(sampleValue(samples, 'zoho_attach_queue_jobs', { state: 'waiting' })).toBe(0);
    expect(sampleValue(samples, 'zoho_attach_queue_paused', {})).toBe(0);

    child.kill('SIGTERM');
    const result = await finished;
    expect(result.code, result.stderr).toBe(0);
    await expect(fetch(url!)).rejects.toThrow();
  });
});
