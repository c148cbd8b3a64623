/**
 * Child processes of a benchmark: `zoho-attach` CLI runs and baseline scripts, each writing
 * stdout and stderr straight into its own log file (the orchestrator does not pump their
 * output, so it costs it nothing), with ways to wait for a line and to stop them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, fstatSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CLI_PATH, REPO_ROOT, sleep } from '../bench-support.js';

/** How a child ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running child process with its log file. */
export interface BenchProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  readonly exited: Promise<Exit>;
  /** Resolves once a log line matches `pattern`; rejects when the process exits first or after `timeoutMs`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends `signal` (SIGTERM by default), SIGKILLs after `timeoutMs`, waits for the exit. */
  stop(timeoutMs?: number): Promise<Exit>;
  /** The text this process wrote to its log file. */
  log(): Promise<string>;
}

/** Starts `node <args>` with exactly `env` (plus PATH), output to `logFile`. */
export function startNode(
  name: string,
  args: string[],
  options: { env: Record<string, string>; cwd: string; logFile: string },
): BenchProcess {
  const fd = openSync(options.logFile, 'a');
  // A log file is appended to when a name runs again (a variant's second run): this process's
  // lines start here, so that a RESULT or READY line of an earlier run is not taken for its own.
  const start = fstatSync(fd).size;
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, args, {
      env: { PATH: process.env.PATH ?? '', ...options.env },
      cwd: options.cwd,
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let done = false;
  void exited.then(() => (done = true));
  const log = async () => (await readFile(options.logFile)).subarray(start).toString('utf8');
  if (child.pid === undefined) throw new Error(`${name}: could not start node`);
  return {
    name,
    pid: child.pid,
    logFile: options.logFile,
    exited,
    log,
    async waitForLine(pattern, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const line = (await log()).split('\n').find((l) => pattern.test(l));
        if (line !== undefined) return line;
        if (done) throw new Error(`${name} exited before printing ${pattern}; see ${options.logFile}`);
        if (Date.now() > deadline)
          throw new Error(`${name} did not print ${pattern} within ${timeoutMs} ms; see ${options.logFile}`);
        await sleep(25);
      }
    },
    async stop(timeoutMs = 30_000) {
      if (!done) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const exit = await exited;
      clearTimeout(timer);
      return exit;
    },
  };
}

/** `name` reduced to letters, digits, `_ . -` (for queue and file names). */
export function slug(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^-+|-+$/g, '');
}

/** With `npm run bench -- --cpu-prof`, node writes a V8 CPU profile of the process to `BENCH_CPU_PROF_DIR` when it exits. */
function profileFlags(name: string): string[] {
  const dir = process.env.BENCH_CPU_PROF_DIR;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${slug(name)}-${Date.now()}.cpuprofile`] : [];
}

/** Starts the built `zoho-attach` CLI. */
export function startCli(
  name: string,
  cliArgs: string[],
  options: { env: Record<string, string>; cwd: string; logDir: string },
): BenchProcess {
  // `npm run bench -- --cli /other/checkout/dist/cli/main.js`: measure another build (a before/after comparison).
  const cli = process.env.BENCH_ZOHO_ATTACH_CLI ?? CLI_PATH;
  return startNode(name, [...profileFlags(name), cli, ...cliArgs], {
    env: options.env,
    cwd: options.cwd,
    logFile: path.join(options.logDir, `${slug(name)}.log`),
  });
}

/** Starts a TypeScript script of bench/ (through tsx), with its spec file (if any) in `BENCH_SPEC`. */
export function startScript(
  name: string,
  script: string,
  options: { specFile?: string; logDir: string; env?: Record<string, string> },
): BenchProcess {
  return startNode(name, [...profileFlags(name), '--import', 'tsx', path.join(REPO_ROOT, 'bench', script)], {
    env: { ...(options.specFile ? { BENCH_SPEC: options.specFile } : {}), ...options.env },
    cwd: REPO_ROOT,
    logFile: path.join(options.logDir, `${slug(name)}.log`),
  });
}

/** Parses the `RESULT {json}` line a baseline printed. */
export async function resultOf<T>(process: BenchProcess): Promise<T> {
  const line = (await process.log()).split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`${process.name} printed no result; see ${process.logFile}`);
  return JSON.parse(line.slice('RESULT '.length)) as T;
}

/** Runs a baseline script to its end and returns its result (throws when it failed). */
export async function runScript<T>(
  name: string,
  script: string,
  options: { specFile: string; logDir: string; timeoutMs: number },
): Promise<T> {
  const child = startScript(name, script, options);
  const timer = setTimeout(() => void child.stop(1_000), options.timeoutMs);
  const exit = await child.exited;
  clearTimeout(timer);
  if (exit.code !== 0) throw new Error(`${name} failed (${exit.code ?? exit.signal}); see ${child.logFile}`);
  return resultOf<T>(child);
}
