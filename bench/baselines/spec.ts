/**
 * What the orchestrator (bench/run-bench.ts) hands a baseline process, and what the process
 * hands back: a spec file named by `BENCH_SPEC`, and one `RESULT {json}` line on stdout.
 */
import { readFileSync } from 'node:fs';

/** One upload: a record, and a local file or a URL with its exact size. */
export interface BaselineUpload {
  module: string;
  recordId: string;
  /** A local file… */
  path?: string;
  /** …or an http(s) URL (for the large-file scenario). */
  url?: string;
  size: number;
  fileName: string;
}

/** Where Zoho is, and the fixed access token baselines use (minted by the fake). */
export interface BaselineZoho {
  apiDomain: string;
  accessToken: string;
}

/** What a baseline process measured. */
export interface BaselineResult {
  uploads: number;
  /** HTTP status of each answer, counted (`200`, `429`, …; `error` for a network failure). */
  statuses: Record<string, number>;
  /** Wall clock of the measured part, epoch ms. */
  startedAt: number;
  endedAt: number;
  /** CPU this process spent in the measured part (process.cpuUsage). */
  cpuMs: number;
  /** Peak resident set size of this process (process.resourceUsage().maxRSS), KiB. */
  peakRssKiB: number;
  /** Bytes of files sent. */
  bytes: number;
}

/** Reads the spec file named by `BENCH_SPEC`. */
export function readSpec<T>(): T {
  const file = process.env.BENCH_SPEC;
  if (!file) throw new Error('BENCH_SPEC (the spec file) is not set');
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/** Measures `run` and prints its result line. */
export async function measure(
  run: () => Promise<{ uploads: number; statuses: Record<string, number>; bytes: number }>,
): Promise<void> {
  const cpuBefore = process.cpuUsage();
  const startedAt = Date.now();
  const done = await run();
  const endedAt = Date.now();
  const cpu = process.cpuUsage(cpuBefore);
  const result: BaselineResult = {
    ...done,
    startedAt,
    endedAt,
    cpuMs: (cpu.user + cpu.system) / 1000,
    peakRssKiB: process.resourceUsage().maxRSS,
  };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

/** Adds one to a status counter. */
export function countStatus(statuses: Record<string, number>, status: number | 'error'): void {
  const key = String(status);
  statuses[key] = (statuses[key] ?? 0) + 1;
}
