/**
 * Redis connections. BullMQ needs different settings for blocking worker connections
 * and for producers, so both are made here and nowhere else.
 */
import { Redis } from 'ioredis';

/**
 * A connection for BullMQ workers and other long-lived consumers. `maxRetriesPerRequest: null`
 * makes commands wait through a Redis outage instead of failing, which BullMQ workers require.
 */
export function createWorkerConnection(redisUrl: string, connectionName?: string): Redis {
  return new Redis(redisUrl, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false, ...named(connectionName) });
}

/**
 * A connection for producers and one-shot commands (enqueue, report, dlq): with no offline
 * queue, a Redis outage fails fast with an error instead of piling commands up in memory.
 */
export function createProducerConnection(redisUrl: string, connectionName?: string): Redis {
  return new Redis(redisUrl, { maxRetriesPerRequest: 3, enableOfflineQueue: false, lazyConnect: true, ...named(connectionName) });
}

/** A client name makes a connection visible in `CLIENT LIST` as the tool's (operators, and tests that kill connections, look for it). */
function named(connectionName: string | undefined): { connectionName?: string } {
  return connectionName === undefined ? {} : { connectionName };
}

/** Connects a lazy connection, turning "Redis is not there" into a clear message. */
export async function connectOrExplain(redis: Redis, redisUrl: string): Promise<Redis> {
  if (redis.status === 'wait') {
    try {
      await redis.connect();
    } catch (error) {
      redis.disconnect();
      throw new Error(`[REDIS_UNREACHABLE] cannot reach Redis at ${redactUrl(redisUrl)}: ${(error as Error).message}. Set REDIS_URL.`, {
        cause: error,
      });
    }
  }
  return redis;
}

/** The URL with any password blanked, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(invalid REDIS_URL)';
  }
}
