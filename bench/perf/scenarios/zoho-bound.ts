/**
 * Scenario 1, Zoho-bound: Zoho answers in 100 ms and allows 10 calls in flight, so no
 * uploader can beat 100 uploads/s. zoho-attach (2 worker processes, ZOHO_CONCURRENCY=10)
 * should get ≥ 95% of that, within 5% of a p-limit script, with almost no 429s.
 */
import type { ScenarioResult } from '../world.js';
import { fixed, type ScenarioContext } from './context.js';
import { runRateBound } from './rate-bound.js';

export async function zohoBound(context: ScenarioContext): Promise<ScenarioResult> {
  const { files, sequentialFiles } = context.sizes.zohoBound;
  const run = await runRateBound(
    { name: 'zoho-bound', latencyMs: 100, limit: 10, workers: 2, files, sequentialFiles },
    context,
  );
  const { za, pLimit, ceiling } = run;
  const calls = za.fake?.calls ?? 0;
  const rateLimited = za.fake?.rateLimited ?? 0;
  return {
    id: '1',
    title: 'Zoho-bound',
    parameters: run.parameters,
    variants: [za, pLimit, run.bare, run.sequential],
    goals: [
      {
        goal: `≥ 95% of the ${ceiling}/s limit`,
        measured: `${fixed(za.rate)}/s = ${fixed((100 * za.rate) / ceiling)}%`,
        met: za.rate >= 0.95 * ceiling,
      },
      {
        goal: 'within 5% of the p-limit script',
        measured: `${fixed((100 * za.rate) / pLimit.rate)}% of ${fixed(pLimit.rate)}/s`,
        met: za.rate >= 0.95 * pLimit.rate,
      },
      {
        goal: '429s < 0.5% of calls',
        measured: `${rateLimited} of ${calls} (${fixed((100 * rateLimited) / Math.max(1, calls), 2)}%)`,
        met: rateLimited < 0.005 * calls,
      },
    ],
  };
}
