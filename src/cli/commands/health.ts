/** `zoho-attach health`: a quick liveness check for containers (the Dockerfile's HEALTHCHECK). */
import { loadConfig } from '../../config/config.js';
import { connectOrExplain, createProducerConnection } from '../../queue/connections.js';
import { safeErrorMessage } from '../../shared/redact.js';
import { EXIT, parseOptions, println, type Command } from '../command.js';

/** How long Redis has to answer. */
const PING_TIMEOUT_MS = 5_000;

export const healthCommand: Command = {
  summary: 'exit 0 when the configuration is valid and Redis answers (for container health checks)',
  usage: `zoho-attach health

Checks what every process needs and nothing that costs: the configuration, and a PING to Redis
within ${PING_TIMEOUT_MS / 1000} s. No Zoho call is made (no credit spent, no token refreshed). Exit 0 healthy, 1 not.`,
  async run(argv, deps) {
    parseOptions(argv, {});
    const config = loadConfig(deps.env, deps.cwd);
    const redis = createProducerConnection(config.redis, `${config.queue.name}:health`);
    try {
      await connectOrExplain(redis, config.redis);
      const pong = await Promise.race([
        redis.ping(),
        new Promise<string>((resolve) => setTimeout(() => resolve('timeout'), PING_TIMEOUT_MS).unref()),
      ]);
      if (pong !== 'PONG') {
        println(deps.stderr, `zoho-attach health: Redis did not answer PING within ${PING_TIMEOUT_MS / 1000} s`);
        return EXIT.FAILED;
      }
      println(deps.stdout, 'healthy: configuration valid, Redis answers');
      return EXIT.OK;
    } catch (error) {
      println(deps.stderr, `zoho-attach health: ${safeErrorMessage(error)}`);
      return EXIT.FAILED;
    } finally {
      redis.disconnect();
    }
  },
};
