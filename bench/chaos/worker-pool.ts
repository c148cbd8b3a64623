/**
 * `zoho-attach worker` processes, as operators run them: started, SIGKILLed and restarted
 * at will, stopped with SIGTERM at the end. Every process's output goes to its own log file;
 * a process that exits unasked is a crash, recorded and replaced.
 */
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { spawnCli } from '../bench-support.js';

/** How one worker process ended. */
export interface WorkerExit {
  name: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** What the run did to it: `killed` (SIGKILL), `stopped` (SIGTERM at the end), `crashed` (nothing). */
  cause: 'killed' | 'stopped' | 'crashed';
  /** Whether it had logged "worker started" (a process SIGTERMed while still loading dies of the signal). */
  started: boolean;
}

interface Running {
  name: string;
  child: ChildProcess;
  log: WriteStream;
  exited: Promise<void>;
  cause?: 'killed' | 'stopped';
  started: boolean;
}

/** A fixed number of worker processes, kept running. */
export class WorkerPool {
  readonly exits: WorkerExit[] = [];
  readonly logFiles: string[] = [];
  private readonly slots: Array<Running | undefined>;
  private generation = 0;
  private closed = false;

  constructor(
    private readonly options: {
      count: number;
      args: string[];
      env: Record<string, string>;
      cwd: string;
      logDir: string;
      cliPath: string;
    },
  ) {
    this.slots = Array.from({ length: options.count }, () => undefined);
  }

  /** Starts every slot. */
  startAll(): void {
    for (let slot = 0; slot < this.slots.length; slot++) this.start(slot);
  }

  /** Processes started so far (first starts and restarts). */
  get started(): number {
    return this.generation;
  }

  /** SIGKILLs the worker in `slot` (random when not given), waits for it to die, starts another. */
  async killAndRestart(slot = Math.floor(Math.random() * this.slots.length)): Promise<string | undefined> {
    const running = this.slots[slot];
    if (!running || this.closed) return undefined;
    running.cause = 'killed';
    running.child.kill('SIGKILL');
    await running.exited;
    if (!this.closed) this.start(slot);
    return running.name;
  }

  /** SIGTERMs every worker and waits for them (SIGKILL after `timeoutMs`). */
  async stopAll(timeoutMs: number): Promise<void> {
    this.closed = true;
    await Promise.all(
      this.slots.map(async (running) => {
        if (!running) return;
        running.cause = 'stopped';
        running.child.kill('SIGTERM');
        const timer = setTimeout(() => running.child.kill('SIGKILL'), timeoutMs);
        await running.exited;
        clearTimeout(timer);
      }),
    );
  }

  /** Every JSON line the workers logged. */
  async logLines(): Promise<Array<Record<string, unknown>>> {
    const lines: Array<Record<string, unknown>> = [];
    for (const file of this.logFiles) {
      for (const text of (await readFile(file, 'utf8')).split('\n')) {
        if (!text.startsWith('{')) continue;
        try {
          lines.push(JSON.parse(text) as Record<string, unknown>);
        } catch {
          // A line cut short by SIGKILL.
        }
      }
    }
    return lines;
  }

  private start(slot: number): void {
    this.generation++;
    const name = `worker-${slot + 1}.${this.generation}`;
    const file = path.join(this.options.logDir, `${name}.log`);
    this.logFiles.push(file);
    const log = createWriteStream(file);
    const child = spawnCli(this.options.args, this.options.env, this.options.cwd, this.options.cliPath);
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    child.stderr?.on('data', (chunk: Buffer) => {
      if (!running.started && chunk.includes('"msg":"worker started"')) running.started = true;
    });
    const running: Running = {
      name,
      child,
      log,
      started: false,
      exited: new Promise<void>((resolve) => {
        child.on('close', (code, signal) => {
          this.exits.push({ name, code, signal, cause: running.cause ?? 'crashed', started: running.started });
          log.end();
          if (this.slots[slot] === running) this.slots[slot] = undefined;
          // A crash is recorded (the verdict fails on it) and the slot refilled so the run can finish.
          if (running.cause === undefined && !this.closed) this.start(slot);
          resolve();
        });
      }),
    };
    this.slots[slot] = running;
  }
}
