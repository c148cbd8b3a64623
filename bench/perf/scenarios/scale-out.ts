/**
 * Scenario 5, scale-out: 4 worker processes share a limit of 20 calls in flight (50 ms each,
 * so 400 uploads/s at most). zoho-attach should get ≥ 90% of that without the fake ever seeing
 * more than 20 calls in flight.
 */
import { SMALL_FILE_BYTES } from '../sizes.js';
import { runBareBullmq, runBaselineScript, runZohoAttach } from '../variants.js';
import { baselineZoho, makeScratch, makeSmallFiles, startBenchFake, type ScenarioResult } from '../world.js';
import { fixed, type ScenarioContext } from './context.js';

const LATENCY_MS = 50;
const LIMIT = 20;
const WORKERS = 4;

export async function scaleOut(context: ScenarioContext): Promise<ScenarioResult> {
  const { files, sequentialFiles } = context.sizes.scaleOut;
  const scratch = await makeScratch('scale-out');
  const fake = await startBenchFake({ latencyMs: LATENCY_MS, concurrencyLimit: LIMIT });
  try {
    const uploads = await makeSmallFiles(scratch.dir, files, SMALL_FILE_BYTES);
    const zoho = baselineZoho(fake);
    const timeoutMs = (files / 100) * 1000 + 60_000;
    const common = { redis: context.redis, fake, scratch, uploads, workers: WORKERS, concurrency: LIMIT, timeoutMs, log: context.log };
    const za = await runZohoAttach({ ...common, variant: 'zoho-attach' });
    const pLimit = await runBaselineScript({ variant: 'p-limit', script: 'baselines/p-limit-uploads.ts', spec: { zoho, uploads, concurrency: LIMIT }, fake, scratch, timeoutMs });
    const bare = await runBareBullmq({ ...common, variant: 'bare-bullmq', zoho });
    const sequential = await runBaselineScript({
      variant: `sequential (${sequentialFiles} files)`,
      script: 'baselines/sequential.ts',
      spec: { zoho, uploads: uploads.slice(0, sequentialFiles) },
      fake,
      scratch,
      timeoutMs,
    });
    const ceiling = (LIMIT * 1000) / LATENCY_MS;
    const peak = za.fake?.peakInFlight ?? 0;
    return {
      id: '5',
      title: 'Scale-out',
      parameters: { files, fileBytes: SMALL_FILE_BYTES, latencyMs: LATENCY_MS, concurrencyLimit: LIMIT, workers: WORKERS, zohoConcurrency: LIMIT, ceilingPerSecond: ceiling },
      variants: [za, pLimit, bare, sequential],
      goals: [
        { goal: `≥ 90% of the ${ceiling}/s limit`, measured: `${fixed(za.rate)}/s = ${fixed((100 * za.rate) / ceiling)}%`, met: za.rate >= 0.9 * ceiling },
        { goal: `peak in flight ≤ ${LIMIT}`, measured: `${peak} (429s: ${za.fake?.rateLimited ?? 0})`, met: peak <= LIMIT },
      ],
    };
  } finally {
    await fake.close();
    await scratch.remove();
  }
}
