/** `zoho-attach demo`: end to end against the built-in fake Zoho, and on a terminal with its dashboard. */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI_PATH, collect, parseCsv, runCli } from '../helpers/pipeline.js';
import { TEST_REDIS_URL } from '../helpers/redis.js';

describe('zoho-attach demo', () => {
  it("on a terminal, leaves the dashboard running on the demo's queue until Ctrl-C", async () => {
    const runsDir = await mkdtemp(path.join(os.tmpdir(), 'za-demo-'));
    // `script` gives the demo a terminal; Ctrl-C typed into it reaches the demo as SIGINT.
    const child = spawn(
      'script',
      ['-qfec', `exec ${process.execPath} ${CLI_PATH} demo --runs-dir ${runsDir}`, '/dev/null'],
      {
        env: { PATH: process.env.PATH ?? '', REDIS_URL: TEST_REDIS_URL, TERM: 'dumb' },
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    const finished = collect(child, 90_000);
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    try {
      let url: string | undefined;
      for (
        let deadline = Date.now() + 60_000;
        !url && Date.now() < deadline;
        await new Promise((r) => setTimeout(r, 100))
      ) {
        url = /dashboard: (http:\/\/127\.0\.0\.1:\d+)\//.exec(stdout)?.[1];
      }
      expect(url, stdout).toBeDefined();
      const status = await (await fetch(`${url}/api/status`)).json();
      expect(JSON.stringify(status)).toContain('remote-files');
      child.stdin.write('\u0003');
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
      const result = await runCli(
        ['demo', '--runs-dir', runsDir, '--no-dashboard'],
        { REDIS_URL: TEST_REDIS_URL },
        process.cwd(),
        90_000,
      );
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain('nothing was uploaded twice');
      const [runDir] = await readdir(runsDir);
      const accounts = parseCsv(await readFile(path.join(runsDir, runDir!, 'accounts-report.csv'), 'utf8'));
      const byLegacy = Object.fromEntries(
        accounts.map((r) => [r.legacy_id || `line ${r.line}`, [r.status, r.error_code]]),
      );
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
      expect(remote.find((r) => r.legacy_id === 'R-404')).toMatchObject({
        status: 'rejected',
        error_code: 'SOURCE_URL_HTTP_ERROR',
      });
    } finally {
      await rm(runsDir, { recursive: true, force: true });
    }
  });
});
