/**
 * What the benchmarks share: where results go, what machine they ran on, and running the
 * built CLI as a subprocess (as operators run it).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The built CLI (`npm run build`; `npm test` and the bench scripts build first). */
export const CLI_PATH = path.join(REPO_ROOT, 'dist', 'cli', 'main.js');

/** Where benchmark results are written (gitignored). */
export const RESULTS_DIR = path.join(REPO_ROOT, 'bench', 'results');

/** The machine a figure was measured on. */
export interface MachineInfo {
  date: string;
  cores: number;
  cpu: string;
  memoryGiB: number;
  platform: string;
  node: string;
  redis: string;
}

/** Describes this machine (and the redis-server on its PATH). */
export function machineInfo(): MachineInfo {
  const redis = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return {
    date: new Date().toISOString(),
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    redis: /v=(\S+)/.exec(redis.stdout ?? '')?.[1] ?? 'unknown',
  };
}

/** Writes `data` as `bench/results/<kind>-<timestamp>.json` and returns the path. */
export async function writeResults(kind: string, data: unknown): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${kind}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}

/**
 * Copies the built CLI to `.tmp/` (gitignored; node_modules still resolve from there) and
 * checks the copy loads. A long run spawns workers for minutes: other builds of `dist/`
 * meanwhile (a test run, a colleague's `npm run build`) must not hand it half-written modules.
 * @returns the copy's `cli/main.js` and a function that deletes the copy
 */
export async function snapshotCli(): Promise<{ cliPath: string; remove(): Promise<void> }> {
  await mkdir(path.join(REPO_ROOT, '.tmp'), { recursive: true });
  for (let attempt = 1; ; attempt++) {
    const dir = await mkdtemp(path.join(REPO_ROOT, '.tmp', 'cli-snapshot-'));
    await cp(path.join(REPO_ROOT, 'dist'), path.join(dir, 'dist'), { recursive: true });
    const cliPath = path.join(dir, 'dist', 'cli', 'main.js');
    const check = spawnSync(process.execPath, [cliPath, '--help'], { encoding: 'utf8' });
    const remove = () => rm(dir, { recursive: true, force: true });
    if (check.status === 0) return { cliPath, remove };
    await remove();
    if (attempt >= 5) throw new Error(`the built CLI does not load (run \`npm run build\`): ${check.stderr}`);
    // Most likely caught mid-build: wait for the build to finish.
    await sleep(2_000);
  }
}

/** A finished CLI run. */
export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts the built CLI (or the copy at `cliPath`) with exactly `env` (plus PATH). */
export function spawnCli(args: string[], env: Record<string, string>, cwd: string, cliPath = CLI_PATH): ChildProcess {
  return spawn(process.execPath, [cliPath, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs the built CLI (or the copy at `cliPath`) to completion (killed after `timeoutMs`). */
export function runCli(
  args: string[],
  env: Record<string, string>,
  cwd: string,
  options: { timeoutMs?: number; cliPath?: string } = {},
): Promise<CliRun> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const child = spawnCli(args, env, cwd, options.cliPath);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`zoho-attach ${args.join(' ')} did not finish within ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A whole number drawn uniformly from `[min, max]`. */
export function randomBetween(min: number, max: number): number {
  return Math.floor(min + Math.random() * (max - min + 1));
}

/** Bytes as a short human figure. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}
