/**
 * What pipeline tests share: a fake Zoho on port 0, a config pointing at it and at a
 * unique queue name in the shared Redis, a scratch folder for manifests and files, and
 * worker processes run from the built CLI.
 */
import { parse as parseCsvSync } from 'csv-parse/sync';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config } from '../../src/config/config.js';
import { FAKE_CREDENTIALS, startFakeZoho, type FakeZoho, type FakeZohoOptions } from '../../src/fake-zoho/index.js';
import { TEST_REDIS_URL, deleteKeysContaining, testRedis, uniqueName } from './redis.js';

/** The built CLI, as the README runs it (`npm test` builds first). */
export const CLI_PATH = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** One pipeline test's world. */
export interface PipelineWorld {
  fake: FakeZoho;
  queueName: string;
  dir: string;
  env: Record<string, string>;
  config: Config;
  /** Writes a file under the scratch folder (creating folders) and returns its absolute path. */
  writeFile(relative: string, content: string | Buffer): Promise<string>;
  /** Deletes the scratch folder, the Redis keys under the queue name, and stops the fake. */
  cleanup(): Promise<void>;
}

/** Sets up a world; `env` adds or overrides variables. */
export async function createPipelineWorld(
  options: { fake?: FakeZohoOptions; env?: Record<string, string> } = {},
): Promise<PipelineWorld> {
  const fake = await startFakeZoho(options.fake ?? {});
  const queueName = uniqueName('q');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'za-pipeline-'));
  const env: Record<string, string> = {
    REDIS_URL: TEST_REDIS_URL,
    ZOHO_ACCOUNTS_URL: fake.url,
    ZOHO_API_DOMAIN: fake.url,
    ZOHO_CLIENT_ID: FAKE_CREDENTIALS.clientId,
    ZOHO_CLIENT_SECRET: FAKE_CREDENTIALS.clientSecret,
    ZOHO_REFRESH_TOKEN: FAKE_CREDENTIALS.refreshToken,
    ZOHO_ATTACH_QUEUE: queueName,
    ZOHO_ATTACH_FILE_ROOTS: dir,
    ZOHO_ATTACH_BACKOFF_MS: '50',
    ZOHO_ATTACH_LOCK_DURATION_MS: '2000',
    ZOHO_ATTACH_SHUTDOWN_TIMEOUT_MS: '5000',
    ZOHO_REQUEST_TIMEOUT_MS: '3000',
    // Long enough for the fake's late stores in the tests that script them; short enough not to slow the rest.
    ZOHO_ATTACH_SETTLE_MS: '300',
    LOG_LEVEL: 'warn',
    ...options.env,
  };
  return {
    fake,
    queueName,
    dir,
    env,
    config: loadConfig(env, dir),
    async writeFile(relative, content) {
      const full = path.join(dir, relative);
      await mkdir(path.dirname(full), { recursive: true });
      await writeFile(full, content);
      return full;
    },
    async cleanup() {
      const redis = testRedis();
      try {
        await deleteKeysContaining(redis, queueName);
      } finally {
        redis.disconnect();
      }
      await fake.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A finished CLI run. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI to completion. */
export function runCli(
  args: string[],
  env: Record<string, string>,
  cwd: string,
  timeoutMs = 60_000,
): Promise<CliResult> {
  const child = spawnCli(args, env, cwd);
  return collect(child, timeoutMs);
}

/** Starts the built CLI and returns the child (for workers that tests kill). */
export function spawnCli(args: string[], env: Record<string, string>, cwd: string): ChildProcess {
  return spawn(process.execPath, [CLI_PATH, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Waits for a child to exit and returns what it printed. */
export function collect(child: ChildProcess, timeoutMs = 60_000): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`CLI did not finish within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    }, timeoutMs);
    const done = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      // 'exit' can come before the pipes are drained.
      setTimeout(() => resolve({ code, signal, stdout, stderr }), 20);
    };
    if (child.exitCode !== null || child.signalCode !== null) done(child.exitCode, child.signalCode);
    else child.on('exit', done);
  });
}

/** A CSV text (a report, an export) as records keyed by its header row. */
export function parseCsv(text: string): Array<Record<string, string>> {
  return parseCsvSync(text, { columns: true, skip_empty_lines: true, relax_column_count: true });
}
