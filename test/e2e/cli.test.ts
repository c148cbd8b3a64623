/**
 * The CLI as a user runs it: the built `zoho-attach` as a subprocess, against a real Redis
 * and the fake Zoho.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { CLI_PATH, collect, createPipelineWorld, parseCsv, runCli, type PipelineWorld } from '../helpers/pipeline.js';
import { TEST_REDIS_URL } from '../helpers/redis.js';
import { UploadQueue } from '../../src/queue/upload-queue.js';

let world: PipelineWorld | undefined;
afterEach(async () => {
  await world?.cleanup();
  world = undefined;
});

describe('zoho-attach CLI', () => {
  it('prints help and exits 0; --version prints the version; an unknown command is a usage error (2)', async () => {
    const help = await runCli(['--help'], {}, os.tmpdir());
    expect(help.code).toBe(0);
    for (const command of ['enqueue', 'worker', 'status', 'report', 'dlq', 'resume', 'fake-zoho', 'demo']) expect(help.stdout).toContain(command);
    expect(help.stdout).toMatch(/Exit codes: 0 done; 1 failed .* 2 a wrong command\s+line; 130 interrupted/);
    const version = await runCli(['--version'], {}, os.tmpdir());
    expect([version.code, version.stdout.trim()]).toEqual([0, `zoho-attach ${JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version}`]);
    expect((await runCli([], {}, os.tmpdir())).code).toBe(2);
    const unknown = await runCli(['frobnicate'], {}, os.tmpdir());
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
  });

  it('reports every configuration problem at once, each naming its variable', async () => {
    const result = await runCli(['status'], { ZOHO_DC: 'mars', ZOHO_CONCURRENCY: 'lots', ZOHO_CLIENT_ID: 'x', REDIS_URL: TEST_REDIS_URL }, os.tmpdir());
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

  it('enqueue exits 0 when every row is valid, 1 when some are rejected (listing each line) or on a fatal error', async () => {
    world = await createPipelineWorld();
    await world.writeFile('a.txt', 'a');
    const good = await world.writeFile('good.csv', 'module,record_id,file\nLeads,1,a.txt\n');
    const mixed = await world.writeFile('mixed.csv', 'module,record_id,file\nLeads,2,a.txt\nLeads,abc,a.txt\nLeads,3,\n');
    const broken = await world.writeFile('broken.csv', 'modul,record,file\nLeads,1,a.txt\n');

    const ok = await runCli(['enqueue', good], world.env, world.dir);
    expect([ok.code, ok.stdout]).toEqual([0, expect.stringContaining('batch good')]);
    const partial = await runCli(['enqueue', mixed, '--batch', 'mixed-run'], world.env, world.dir);
    expect(partial.code).toBe(1);
    expect(partial.stdout).toMatch(/enqueued:\s+1/);
    expect(partial.stdout).toMatch(/line 3: record_id/);
    expect(partial.stdout).toMatch(/line 4: file/);
    const fatal = await runCli(['enqueue', broken], world.env, world.dir);
    expect(fatal.code).toBe(1);
    expect(fatal.stderr).toMatch(/module/);
    const missing = await runCli(['enqueue', 'nope.csv'], world.env, world.dir);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('nope.csv');

    const dry = await runCli(['enqueue', mixed, '--dry-run'], world.env, world.dir);
    expect(dry.code).toBe(1);
    expect(dry.stdout).toContain('nothing was enqueued');
  });

  it('--dry-run checks that files exist, fit and are allowed, and enqueues nothing', async () => {
    world = await createPipelineWorld();
    await world.writeFile('a.txt', 'a');
    await world.writeFile('tool.exe', 'MZ');
    const manifest = await world.writeFile('m.csv', 'module,record_id,file\nLeads,1,a.txt\nLeads,2,tool.exe\nLeads,3,gone.txt\n');
    const dry = await runCli(['enqueue', manifest, '--dry-run'], world.env, world.dir);
    expect(dry.code).toBe(1);
    expect(dry.stdout).toMatch(/line 3: file: \[SOURCE_FORBIDDEN_TYPE\]/);
    expect(dry.stdout).toMatch(/line 4: file: \[SOURCE_NOT_FOUND\]/);
    const status = await runCli(['status', '--json'], world.env, world.dir);
    expect(JSON.parse(status.stdout).batches).toEqual([]);
  });

  it('enqueue refuses exactly the rows --dry-run refuses (one validation path), and --allow-empty admits an empty file in both', async () => {
    world = await createPipelineWorld();
    await world.writeFile('a.txt', 'a');
    await world.writeFile('tool.exe', 'MZ');
    await world.writeFile('empty.txt', '');
    const manifest = await world.writeFile('m.csv', 'module,record_id,file,legacy\nLeads,1,a.txt,L1\nLeads,2,tool.exe,L2\nLeads,3,gone.txt,L3\nLeads,4,empty.txt,L4\n');
    const refusals = (stdout: string) => stdout.split('\n').filter((l) => /^\s+line \d+:/.test(l)).map((l) => l.trim());

    const dry = await runCli(['enqueue', manifest, '--dry-run'], world.env, world.dir);
    const real = await runCli(['enqueue', manifest, '--batch', 'checked'], world.env, world.dir);
    expect(real.code).toBe(1);
    expect(refusals(real.stdout)).toEqual(refusals(dry.stdout));
    expect(refusals(real.stdout)).toEqual([
      expect.stringMatching(/^line 3: file: \[SOURCE_FORBIDDEN_TYPE\]/),
      expect.stringMatching(/^line 4: file: \[SOURCE_NOT_FOUND\]/),
      expect.stringMatching(/^line 5: file: \[SOURCE_EMPTY\] .*empty\.txt is empty \(0 bytes\).*--allow-empty/),
    ]);
    expect(real.stdout).toMatch(/enqueued:\s+1\b/);
    const uploadQueue = await UploadQueue.open(world.config);
    try {
      expect((await uploadQueue.queue.getWaiting()).map((job) => job.data.line)).toEqual([2]);
    } finally {
      await uploadQueue.close();
    }

    // The report keeps a refused row whole: its fields and its pass-through columns.
    const report = parseCsv((await runCli(['report', '--batch', 'checked'], world.env, world.dir)).stdout);
    expect(report.find((r) => r.line === '4')).toMatchObject({ status: 'rejected', error_code: 'SOURCE_NOT_FOUND', module: 'Leads', record_id: '3', legacy: 'L3' });
    expect(report.find((r) => r.line === '4')!.file).toMatch(/gone\.txt$/);

    const allowDry = await runCli(['enqueue', manifest, '--dry-run', '--allow-empty'], world.env, world.dir);
    expect(refusals(allowDry.stdout)).toHaveLength(2);
    const allowed = await runCli(['enqueue', manifest, '--batch', 'checked', '--allow-empty'], world.env, world.dir);
    expect(refusals(allowed.stdout)).toEqual(refusals(allowDry.stdout));
    expect(allowed.stdout).toMatch(/enqueued:\s+1\b/);
  });

  it('--skip-source-checks leaves the files to the workers, which refuse a missing one as a dead letter', async () => {
    world = await createPipelineWorld();
    const manifest = await world.writeFile('m.csv', 'module,record_id,file\nLeads,1,not-here-yet.txt\n');
    const result = await runCli(['enqueue', manifest, '--skip-source-checks'], world.env, world.dir);
    expect([result.code, result.stdout]).toEqual([0, expect.stringMatching(/enqueued:\s+1\b/)]);
    expect((await runCli(['worker', '--until-idle'], world.env, world.dir)).code).toBe(0);
    expect((await runCli(['dlq', 'list'], world.env, world.dir)).stdout).toContain('SOURCE_NOT_FOUND');
  });

  it('manifest conveniences: columns keep their order, "did you mean title?", rejected rows whole, no empty batch on a re-run', async () => {
    world = await createPipelineWorld();
    await world.writeFile('a.txt', 'a');
    await world.writeFile('b.txt', 'b');
    const manifest = await world.writeFile('rows.csv', 'zeta,module,record_id,file,titel,alpha\nz1,Leads,1,a.txt,Hello,a1\nz2,Leads,x,b.txt,Bye,a2\n');
    const first = await runCli(['enqueue', manifest, '--batch', 'first'], world.env, world.dir);
    expect(first.stderr).toContain('warning: column "titel" is not a manifest field, so it is passed through as it is: did you mean title?');
    expect(first.stderr.match(/did you mean/g)).toHaveLength(1);
    const dry = await runCli(['enqueue', manifest, '--dry-run'], world.env, world.dir);
    expect(dry.stderr).toContain('did you mean title?');

    const report = (await runCli(['report', '--batch', 'first'], world.env, world.dir)).stdout;
    expect(report.split(/\r?\n/)[0]).toMatch(/,copies_removed,zeta,titel,alpha$/);
    expect(parseCsv(report).find((r) => r.line === '3')).toMatchObject({ status: 'rejected', module: 'Leads', record_id: 'x', zeta: 'z2', titel: 'Bye', alpha: 'a2' });

    // The valid row again, without --batch: it is queued already (in "first"), so no batch "rows" appears.
    const fixed = await world.writeFile('rows.csv', 'zeta,module,record_id,file,titel,alpha\nz1,Leads,1,a.txt,Hello,a1\n');
    const rerun = await runCli(['enqueue', fixed], world.env, world.dir);
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toMatch(/already queued:\s+1 /);
    expect(rerun.stdout).toMatch(/^nothing new: each of the 1 rows is already uploaded, queued or a dead letter\n  so no batch rows was created/m);
    const status = JSON.parse((await runCli(['status', '--json'], world.env, world.dir)).stdout);
    expect(status.batches.map((b: { name: string }) => b.name)).toEqual(['first']);
  });

  it('runs the operator flow: enqueue → worker --until-idle → status → report → dlq list/export/retry/purge → pause/resume', async () => {
    world = await createPipelineWorld();
    await world.writeFile('a.txt', 'a');
    await world.writeFile('b.txt', 'b');
    const manifest = await world.writeFile('m.jsonl', [
      JSON.stringify({ module: 'Leads', record_id: '1', file: 'a.txt', legacy: 'X1' }),
      JSON.stringify({ module: 'Widgets', record_id: '2', file: 'b.txt', legacy: 'X2' }),
    ].join('\n'));
    expect((await runCli(['enqueue', manifest, '--batch', 'flow'], world.env, world.dir)).code).toBe(0);
    const worker = await runCli(['worker', '--until-idle'], world.env, world.dir);
    expect(worker.code, worker.stderr).toBe(0);

    const status = JSON.parse((await runCli(['status', '--batch', 'flow', '--json'], world.env, world.dir)).stdout);
    expect(status.batches[0]).toMatchObject({ name: 'flow', uploaded: 1, dead: 1, pending: 0 });

    const reportJsonl = await runCli(['report', '--batch', 'flow', '--format', 'jsonl'], world.env, world.dir);
    const rows = reportJsonl.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((r: Record<string, string>) => [r.status, r.error_code, r.legacy])).toEqual([
      ['uploaded', '', 'X1'],
      ['dead', 'INVALID_MODULE', 'X2'],
    ]);
    expect(rows[0].attachment_id).toBe(world.fake.inspect().attachments[0]!.id);
    expect((await runCli(['report', '--batch', 'flow', '--out', 'r.csv'], world.env, world.dir)).code).toBe(0);
    expect(parseCsv(await readFile(path.join(world.dir, 'r.csv'), 'utf8'))).toHaveLength(2);

    const list = await runCli(['dlq', 'list', '--batch', 'flow'], world.env, world.dir);
    expect(list.stdout).toContain('INVALID_MODULE: 1 row(s)');
    expect((await runCli(['dlq', 'export', '--code', 'INVALID_MODULE', '--out', 'dlq.csv'], world.env, world.dir)).code).toBe(0);
    const exported = parseCsv(await readFile(path.join(world.dir, 'dlq.csv'), 'utf8'));
    expect(exported).toEqual([expect.objectContaining({ module: 'Widgets', record_id: '2', dlq_error_code: 'INVALID_MODULE', legacy: 'X2' })]);

    expect((await runCli(['dlq', 'retry'], world.env, world.dir)).code).toBe(2);
    expect((await runCli(['dlq', 'retry', '--all'], world.env, world.dir)).stdout).toContain('re-enqueued 1');
    expect((await runCli(['worker', '--until-idle'], world.env, world.dir)).code).toBe(0);
    expect((await runCli(['dlq', 'purge', '--code', 'INVALID_MODULE'], world.env, world.dir)).stdout).toContain('purged 1');
    expect((await runCli(['dlq', 'list', '--json'], world.env, world.dir)).stdout.trim()).toBe('[]');

    expect((await runCli(['pause'], world.env, world.dir)).code).toBe(0);
    expect((await runCli(['status'], world.env, world.dir)).stdout).toContain('PAUSED');
    expect((await runCli(['resume'], world.env, world.dir)).stdout).toContain('queue resumed');
    expect((await runCli(['status'], world.env, world.dir)).stdout).not.toContain('PAUSED');
  });
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
    const watchPlain = runCli(['status', '--watch', '--interval', '1', '--until-done', '--batch', 'watched'], world.env, world.dir);
    const worker = await runCli(['worker', '--until-idle'], world.env, world.dir);
    expect(worker.code, worker.stderr).toBe(0);

    const json = await watchJson;
    expect(json.code, json.stderr).toBe(0);
    const ticks = json.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const last = ticks[ticks.length - 1].batches[0];
    expect(last).toMatchObject({ name: 'watched', total: 40, done: 40, uploaded: 40, pending: 0, etaSeconds: 0 });
    expect(ticks.some((t: { batches: Array<{ uploadsPerSecond: number }> }) => t.batches[0]!.uploadsPerSecond > 0)).toBe(true);

    const plain = await watchPlain;
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(/watched \[#+\] 40\/40 \(100%\)/);
    expect(plain.stdout).toContain('uploads/s');
    expect(plain.stdout).not.toContain('\u001b[');
  });
});

describe('zoho-attach demo', () => {
  it('on a terminal, leaves the dashboard running on the demo\'s queue until Ctrl-C', async () => {
    const runsDir = await mkdtemp(path.join(os.tmpdir(), 'za-demo-'));
    // `script` gives the demo a terminal; Ctrl-C typed into it reaches the demo as SIGINT.
    const child = spawn('script', ['-qfec', `exec ${process.execPath} ${CLI_PATH} demo --runs-dir ${runsDir}`, '/dev/null'], {
      env: { PATH: process.env.PATH ?? '', REDIS_URL: TEST_REDIS_URL, TERM: 'dumb' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const finished = collect(child, 90_000);
    let stdout = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    try {
      let url: string | undefined;
      for (let deadline = Date.now() + 60_000; !url && Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
        url = /dashboard: (http:\/\/127\.0\.0\.1:\d+)\//.exec(stdout)?.[1];
      }
      expect(url, stdout).toBeDefined();
      const status = (await (await fetch(`${url}/api/status`)).json()) as unknown;
      expect(JSON.stringify(status)).toContain('remote-files');
      child.stdin!.write('\u0003');
      const result = await finished;
      expect(result.code, result.stdout).toBe(0);
      await expect(fetch(`${url}/api/status`)).rejects.toThrow();
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(runsDir, { recursive: true, force: true });
    }
  });

  it('runs end to end against the fake and writes correct reports', async () => {
    const runsDir = await mkdtemp(path.join(os.tmpdir(), 'za-demo-'));
    try {
      const result = await runCli(['demo', '--runs-dir', runsDir, '--no-dashboard'], { REDIS_URL: TEST_REDIS_URL }, process.cwd(), 90_000);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain('nothing was uploaded twice');
      const [runDir] = await readdir(runsDir);
      const accounts = parseCsv(await readFile(path.join(runsDir, runDir!, 'accounts-report.csv'), 'utf8'));
      const byLegacy = Object.fromEntries(accounts.map((r) => [r.legacy_id || `line ${r.line}`, [r.status, r.error_code]]));
      expect(byLegacy).toMatchObject({
        'ACME-001': ['uploaded', ''],
        'GLOBEX-17': ['uploaded', ''],
        'WIDGET-1': ['dead', 'INVALID_MODULE'],
        // Refused at enqueue, by the same checks as the dry run, with the source's code.
        'EXE-1': ['rejected', 'SOURCE_FORBIDDEN_TYPE'],
        'MISSING-1': ['rejected', 'SOURCE_NOT_FOUND'],
        // A rejected row keeps its fields in the report, its legacy id included.
        'SCAN-BAD': ['rejected', 'INVALID_ROW'],
        'BOTH-1': ['rejected', 'INVALID_ROW'],
      });
      const remote = parseCsv(await readFile(path.join(runsDir, runDir!, 'remote-files-report.csv'), 'utf8'));
      expect(remote.filter((r) => r.status === 'uploaded').length).toBe(remote.length - 1);
      expect(remote.find((r) => r.legacy_id === 'R-404')).toMatchObject({ status: 'rejected', error_code: 'SOURCE_URL_HTTP_ERROR' });
    } finally {
      await rm(runsDir, { recursive: true, force: true });
    }
  });
});
