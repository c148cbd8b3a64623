/**
 * What scenarios 1 and 5 share: small files against a fake with a latency and a concurrency
 * limit, so the fastest possible rate is limit / latency. zoho-attach and the three baselines run
 * one after the other against the same fake; the scenarios judge the figures by their own goals.
 */
import { SMALL_FILE_BYTES } from '../sizes.js';
import { runBareBullmq, runBaselineScript, runZohoAttach } from '../variants.js';
import { baselineZoho, makeScratch, makeSmallFiles, startBenchFake, type VariantFigures } from '../world.js';
import type { ScenarioContext } from './context.js';

/** The shape of a rate-bound run. */
export interface RateBoundSetup {
  /** Names the scratch folder. */
  name: string;
  latencyMs: number;
  /** The fake's concurrency limit, and ZOHO_CONCURRENCY. */
  limit: number;
  workers: number;
  files: number;
  sequentialFiles: number;
}

/** The figures of a rate-bound run. */
export interface RateBoundRun {
  za: VariantFigures;
  pLimit: VariantFigures;
  bare: VariantFigures;
  sequential: VariantFigures;
  /** limit / latency, in uploads per second. */
  ceiling: number;
  parameters: Record<string, number>;
}

/** Runs zoho-attach and the baselines under `setup`. */
export async function runRateBound(setup: RateBoundSetup, context: ScenarioContext): Promise<RateBoundRun> {
  const { latencyMs, limit, workers, files, sequentialFiles } = setup;
  const ceiling = (limit * 1000) / latencyMs;
  const scratch = await makeScratch(setup.name);
  const fake = await startBenchFake({ latencyMs, concurrencyLimit: limit });
  try {
    const uploads = await makeSmallFiles(scratch.dir, files, SMALL_FILE_BYTES);
    const zoho = baselineZoho(fake);
    // A quarter of the ceiling, plus a minute of slack, before a variant counts as stuck.
    const timeoutMs = (files / (ceiling / 4)) * 1000 + 60_000;
    const common = {
      redis: context.redis,
      fake,
      scratch,
      uploads,
      workers,
      concurrency: limit,
      timeoutMs,
      log: context.log,
    };
    const za = await runZohoAttach({ ...common, variant: 'zoho-attach' });
    const pLimit = await runBaselineScript({
      variant: 'p-limit',
      script: 'baselines/p-limit-uploads.ts',
      spec: { zoho, uploads, concurrency: limit },
      fake,
      scratch,
      timeoutMs,
    });
    const bare = await runBareBullmq({ ...common, variant: 'bare-bullmq', zoho });
    const sequential = await runBaselineScript({
      variant: `sequential (${sequentialFiles} files)`,
      script: 'baselines/sequential.ts',
      spec: { zoho, uploads: uploads.slice(0, sequentialFiles) },
      fake,
      scratch,
      timeoutMs,
    });
    const parameters = {
      files,
      fileBytes: SMALL_FILE_BYTES,
      latencyMs,
      concurrencyLimit: limit,
      workers,
      zohoConcurrency: limit,
      ceilingPerSecond: ceiling,
    };
    return { za, pLimit, bare, sequential, ceiling, parameters };
  } finally {
    await fake.close();
    await scratch.remove();
  }
}
