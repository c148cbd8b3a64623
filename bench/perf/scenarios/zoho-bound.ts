/**
 * Scenario 1, Zoho-bound: Zoho answers in 100 ms and allows 10 calls in flight, so no
 * uploader can beat 100 uploads/s. zoho-attach (2 worker processes, ZOHO_CONCURRENCY=10)
 * should get ≥ 95% of that, within 5% of a p-limit script, with almost no 429s.
 */
import { SMALL_FILE_BYTES } from '../sizes.js';
import { runBareBullmq, runBaselineScript, runZohoAttach } from '../variants.js';
import { baselineZoho, makeScratch, makeSmallFiles, startBenchFake, type ScenarioResult } from '../world.js';
import { fixed, type ScenarioContext } from './context.js';

const LATENCY_MS = 100;
const LIMIT = 10;
const WORKERS = 2;

export async function zohoBound(context: ScenarioContext): Promise<ScenarioResult> {
  const { files, sequentialFiles } = context.sizes.zohoBound;
  const scratch = await makeScratch('zoho-bound');
  const fake = await startBenchFake({ latencyMs: LATENCY_MS, concurrencyLimit: LIMIT });
  try {
    const uploads = await makeSmallFiles(scratch.dir, files, SMALL_FILE_BYTES);
    const zoho = baselineZoho(fake);
    const timeoutMs = (files / 50) * 1000 + 60_000;
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
    const calls = za.fake?.calls ?? 0;
    const rateLimited = za.fake?.rateLimited ?? 0;
    return {
      id: '1',
      title: 'Zoho-bound',
      parameters: { files, fileBytes: SMALL_FILE_BYTES, latencyMs: LATENCY_MS, concurrencyLimit: LIMIT, workers: WORKERS, zohoConcurrency: LIMIT, ceilingPerSecond: ceiling },
      variants: [za, pLimit, bare, sequential],
      goals: [
        { goal: `≥ 95% of the ${ceiling}/s limit`, measured: `${fixed(za.rate)}/s = ${fixed((100 * za.rate) / ceiling)}%`, met: za.rate >= 0.95 * ceiling },
        { goal: 'within 5% of the p-limit script', measured: `${fixed((100 * za.rate) / pLimit.rate)}% of ${fixed(pLimit.rate)}/s`, met: za.rate >= 0.95 * pLimit.rate },
        { goal: '429s < 0.5% of calls', measured: `${rateLimited} of ${calls} (${fixed((100 * rateLimited) / Math.max(1, calls), 2)}%)`, met: rateLimited < 0.005 * calls },
      ],
    };
  } finally {
    await fake.close();
    await scratch.remove();
  }
}
