/**
 * Scenario 6, over-configured concurrency: ZOHO_CONCURRENCY is 20 but Zoho allows 10 (an
 * edition's limit, or live integrations taking their share). The adaptive limit must find 10
 * quickly and stay there: the run within 10% of one configured at 10, with at most 20 429s.
 * Both run in the same session against the same fake, so the ratio is what counts.
 */
import { SMALL_FILE_BYTES } from '../sizes.js';
import { runZohoAttach } from '../variants.js';
import { makeScratch, makeSmallFiles, startBenchFake, type ScenarioResult } from '../world.js';
import { fixed, type ScenarioContext } from './context.js';

export async function overConfigured(context: ScenarioContext): Promise<ScenarioResult> {
  const { files } = context.sizes.zohoBound;
  const latencyMs = 100;
  const limit = 10;
  const workers = 2;
  const scratch = await makeScratch('over-configured');
  const fake = await startBenchFake({ latencyMs, concurrencyLimit: limit });
  try {
    const uploads = await makeSmallFiles(scratch.dir, files, SMALL_FILE_BYTES);
    const timeoutMs = (files / (limit / (latencyMs / 1000) / 4)) * 1000 + 60_000;
    const common = { redis: context.redis, fake, scratch, uploads, workers, timeoutMs, log: context.log };
    const right = await runZohoAttach({ ...common, variant: 'ZOHO_CONCURRENCY=10', concurrency: limit });
    const over = await runZohoAttach({ ...common, variant: 'ZOHO_CONCURRENCY=20', concurrency: 2 * limit });
    const ratio = over.seconds / right.seconds;
    const refused = over.fake?.rateLimited ?? 0;
    return {
      id: '6',
      title: 'Over-configured concurrency',
      parameters: {
        files,
        fileBytes: SMALL_FILE_BYTES,
        latencyMs,
        concurrencyLimit: limit,
        workers,
        zohoConcurrency: 2 * limit,
      },
      variants: [over, right],
      goals: [
        {
          goal: 'set to 20 with Zoho allowing 10: within 10% of the run set to 10',
          measured: `${fixed(over.seconds)} s vs ${fixed(right.seconds)} s (×${fixed(ratio, 3)})`,
          met: ratio <= 1.1,
        },
        {
          goal: 'at most 20 429s',
          measured: `${refused} 429s (set to 10: ${right.fake?.rateLimited ?? 0})`,
          met: refused <= 20,
        },
      ],
    };
  } finally {
    await fake.close();
    await scratch.remove();
  }
}
