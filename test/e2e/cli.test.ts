/**
 * The CLI as a user runs it: the built `zoho-attach` as a subprocess, against a real Redis
 * and the fake Zoho. Help, configuration errors, the operator's flow and `status --watch`
 * (enqueue has enqueue.test.ts, the demo demo.test.ts).
 */
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createPipelineWorld, parseCsv, runCli, type PipelineWorld } from '../helpers/pipeline.js';
import { TEST_REDIS_URL } from '../helpers/redis.js';

let world: PipelineWorld | undefined;
afterEach(async () => {
  await world?.cleanup();
  world = undefined;
});

describe('zoho-attach CLI', () => {
  it('prints help and exits 0; --version prints the version; an unknown command is a usage error (2)', async () => {
    const help = await runCli(['--help'], {}, os.tmpdir());
    expect(help.code).toBe(0);
    for (const command of ['enqueue', 'worker', 'status', 'report', 'dlq', 'resume', 'fake-zoho', 'demo'])
      expect(help.stdout).toContain(command);
    expect(help.stdout).toMatch(/Exit codes: 0 done; 1 failed .* 2 a wrong command\s+line; 130 interrupted/);
    const version = await runCli(['--version'], {}, os.tmpdir());
    expect([version.code, version.stdout.trim()]).toEqual([
      0,
      `zoho-attach ${JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version}`,
    ]);
    expect((await runCli([], {}, os.tmpdir())).code).toBe(2);
    const unknown = await runCli(['frobnicate'], {}, os.tmpdir());
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
  });

  it('reports every configuration problem at once, each naming its variable', async () => {
    const result = await runCli(
      ['status'],
      { ZOHO_DC: 'mars', ZOHO_CONCURRENCY: 'lots', ZOHO_CLIENT_ID: 'x', REDIS_URL: TEST_REDIS_URL },
      os.tmpdir(),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('ZOHO_DC');
    expect(result.stderr).toContain('ZOHO_CONCURRENCY');
    expect(result.stderr).toMatch(/ZOHO_CLIENT_SECRET.*ZOHO_REFRESH_TOKEN|ZOHO_REFRESH_TOKEN.*ZOHO_CLIENT_SECRET/);
  });

  it('names the bad option of a command (a usage error: 2)', async () => {
    const result = await runCli(['worker', '--concurrency', 'many'], { REDIS_URL: TEST_REDIS_URL }, os.tmpdir());
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--concurrency "many"');
  });

  it('runs the operator flow: enqueue → worker --until-idle → status → report → dlq list/export/retry/purge → pause/resume', async () => {
    world = await createPipelineWorld();
    await world.writeFile('a.txt', 'a');
    await world.writeFile('b.txt', 'b');
    const manifest = await world.writeFile(
      'm.jsonl',
      [
        JSON.stringify({ module: 'Leads', record_id: '1', file: 'a.txt', legacy: 'X1' }),
        JSON.stringify({ module: 'Widgets', record_id: '2', file: 'b.txt', legacy: 'X2' }),
      ].join('\n'),
    );
    expect((await runCli(['enqueue', manifest, '--batch', 'flow'], world.env, world.dir)).code).toBe(0);
    const worker = await runCli(['worker', '--until-idle'], world.env, world.dir);
    expect(worker.code, worker.stderr).toBe(0);

    const status = JSON.parse((await runCli(['status', '--batch', 'flow', '--json'], world.env, world.dir)).stdout);
    expect(status.batches[0]).toMatchObject({ name: 'flow', uploaded: 1, dead: 1, pending: 0 });

    const reportJsonl = await runCli(['report', '--batch', 'flow', '--format', 'jsonl'], world.env, world.dir);
    const rows = reportJsonl.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.map((r: Record<string, string>) => [r.status, r.error_code, r.legacy])).toEqual([
      ['uploaded', '', 'X1'],
      ['dead', 'INVALID_MODULE', 'X2'],
    ]);
    expect(rows[0].attachment_id).toBe(world.fake.inspect().attachments[0]!.id);
    expect((await runCli(['report', '--batch', 'flow', '--out', 'r.csv'], world.env, world.dir)).code).toBe(0);
    expect(parseCsv(await readFile(path.join(world.dir, 'r.csv'), 'utf8'))).toHaveLength(2);

    const list = await runCli(['dlq', 'list', '--batch', 'flow'], world.env, world.dir);
    expect(list.stdout).toContain('INVALID_MODULE: 1 row(s)');
    expect(
      (await runCli(['dlq', 'export', '--code', 'INVALID_MODULE', '--out', 'dlq.csv'], world.env, world.dir)).code,
    ).toBe(0);
    const exported = parseCsv(await readFile(path.join(world.dir, 'dlq.csv'), 'utf8'));
    expect(exported).toEqual([
      expect.objectContaining({ module: 'Widgets', record_id: '2', dlq_error_code: 'INVALID_MODULE', legacy: 'X2' }),
    ]);

    expect((await runCli(['dlq', 'retry'], world.env, world.dir)).code).toBe(2);
    expect((await runCli(['dlq', 'retry', '--all'], world.env, world.dir)).stdout).toContain('re-enqueued 1');
    expect((await runCli(['worker', '--until-idle'], world.env, world.dir)).code).toBe(0);
    expect((await runCli(['dlq', 'purge', '--code', 'INVALID_MODULE'], world.env, world.dir)).stdout).toContain(
      'purged 1',
    );
    expect((await runCli(['dlq', 'list', '--json'], world.env, world.dir)).stdout.trim()).toBe('[]');

    expect((await runCli(['pause'], world.env, world.dir)).code).toBe(0);
    expect((await runCli(['status'], world.env, world.dir)).stdout).toContain('PAUSED');
    expect((await runCli(['resume'], world.env, world.dir)).stdout).toContain('queue resumed');
    expect((await runCli(['status'], world.env, world.dir)).stdout).not.toContain('PAUSED');
    // About 20 CLI processes one after another, each starting Node: 12 s on a quiet machine, 25-30 s
    // while other test files run beside it on a slow day (one CI run went past the default 30 s).
  }, 90_000);
});

describe('zoho-attach status --watch', () => {
  it('prints live progress (JSON lines or plain lines) and exits with --until-done once the batch is done', async () => {
    world = await createPipelineWorld({ fake: { latencyMs: 40, concurrencyLimit: 2 }, env: { ZOHO_CONCURRENCY: '2' } });
    const lines = ['module,record_id,file'];
    for (let i = 1; i <= 40; i++) {
      await world.writeFile(`f${i}.txt`, `file ${i} `.repeat(100));
      lines.push(`Leads,${i},f${i}.txt`);
    }
    const manifest = await world.writeFile('m.csv', lines.join('\n'));
    expect((await runCli(['enqueue', manifest, '--batch', 'watched'], world.env, world.dir)).code).toBe(0);

    const watchJson = runCli(['status', '--watch', '--json', '--interval', '1', '--until-done'], world.env, world.dir);
    const watchPlain = runCli(
      ['status', '--watch', '--interval', '1', '--until-done', '--batch', 'watched'],
      world.env,
      world.dir,
    );
    const worker = await runCli(['worker', '--until-idle'], world.env, world.dir);
    expect(worker.code, worker.stderr).toBe(0);

    const json = await watchJson;
    expect(json.code, json.stderr).toBe(0);
    const ticks = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const last = ticks[ticks.length - 1].batches[0];
    expect(last).toMatchObject({ name: 'watched', total: 40, done: 40, uploaded: 40, pending: 0, etaSeconds: 0 });
    expect(
      ticks.some((t: { batches: Array<{ uploadsPerSecond: number }> }) => t.batches[0]!.uploadsPerSecond > 0),
    ).toBe(true);

    const plain = await watchPlain;
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(/watched \[#+\] 40\/40 \(100%\)/);
    expect(plain.stdout).toContain('uploads/s');
    expect(plain.stdout).not.toContain('\u001b[');
  });
});
