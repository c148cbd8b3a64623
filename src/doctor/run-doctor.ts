/**
 * `zoho-attach doctor`'s checks, in order: Redis, Zoho, then the file roots. A check that
 * needs an earlier one (the OAuth token lives in Redis) is skipped when that one failed.
 */
import type { Config } from '../config/config.js';
import { keyNames } from '../shared/key-names.js';
import type { CheckResult } from './check-result.js';
import { checkClock } from './clock-checks.js';
import { checkFileRoots } from './file-root-checks.js';
import { checkLedgerFormat, checkRedisServer, checkReplicas, connectToRedis } from './redis-checks.js';
import { checkApiDomain, checkOAuth } from './zoho-checks.js';

export type { CheckResult, CheckStatus } from './check-result.js';

/**
 * Runs every check against `config`. Costs one token refresh (the credentials are tested every
 * run; the token it mints is the one workers use next) and one Zoho API call (a read); changes nothing else.
 */
export async function runDoctor(config: Config): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const { redis, result: reachable } = await connectToRedis(config.redis);
  results.push(reachable);
  if (redis) {
    try {
      results.push(...(await checkRedisServer(redis)));
      const keys = keyNames(config.queue.name);
      results.push(await checkLedgerFormat(redis, keys));
      if (config.redis.waitReplicas > 0)
        results.push(await checkReplicas(redis, config.redis.waitReplicas, keys.queueMeta));
      const { result: oauth, tokens } = await checkOAuth(config, redis);
      results.push(oauth);
      results.push(
        tokens
          ? await checkApiDomain(config.zoho, tokens)
          : skipped('Zoho API domain', 'needs a token (see Zoho OAuth)'),
      );
    } finally {
      await redis.quit().catch(() => redis.disconnect());
    }
  } else {
    const why = 'needs Redis: the shared OAuth token lives there';
    results.push(skipped('Zoho OAuth', why), skipped('Zoho API domain', why));
  }
  results.push(await checkClock(config));
  results.push(...(await checkFileRoots(config.sources.fileRoots)));
  return results;
}

function skipped(name: string, why: string): CheckResult {
  return { name, status: 'skip', detail: `not checked: ${why}` };
}
