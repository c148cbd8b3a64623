/**
 * Scenario 5, scale-out: 4 worker processes share a limit of 20 calls in flight (50 ms each,
 * so 400 uploads/s at most). zoho-attach should get ≥ 90% of that without the fake ever seeing
 * more than 20 calls in flight.
 */
import type { ScenarioResult } from '../world.js';
import { fixed, type ScenarioContext } from './context.js';
import { runRateBound } from './rate-bound.js';

const LIMIT = 20;

export async function scaleOut(context: ScenarioContext): Promise<ScenarioResult> {
  const { files, sequentialFiles } = context.sizes.scaleOut;
  const run = await runRateBound(
    { name: 'scale-out', latencyMs: 50, limit: LIMIT, workers: 4, files, sequentialFiles },
    context,
  );
  const { za, ceiling } = run;
  const peak = za.fake?.peakInFlight ?? 0;
  return {
    id: '5',
    title: 'Scale-out',
    parameters: run.parameters,
    variants: [za, run.pLimit, run.bare, run.sequential],
    goals: [
      {
        goal: `≥ 90% of the ${ceiling}/s limit`,
        measured: `${fixed(za.rate)}/s = ${fixed((100 * za.rate) / ceiling)}%`,
        met: za.rate >= 0.9 * ceiling,
      },
      {
        goal: `peak in flight ≤ ${LIMIT}`,
        measured: `${peak} (429s: ${za.fake?.rateLimited ?? 0})`,
        met: peak <= LIMIT,
      },
    ],
  };
}
