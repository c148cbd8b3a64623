/**
 * Redis connections. BullMQ needs different settings for blocking worker connections
 * and for producers, so both are made here and nowhere else.
 */
import { Redis } from 'ioredis';
import { ZohoAttachError } from '../shared/errors.js';
import { redactUrl, safeErrorMessage, scrubError } from '../shared/redact.js';

/**
 * A connection for BullMQ workers and other long-lived consumers. `maxRetriesPerRequest: null`
 * makes commands wait through a Redis outage instead of failing, which BullMQ workers require.
 */
export function createWorkerConnection(redisUrl: string, connectionName?: string): Redis {
  return scrubbing(new Redis(redisUrl, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false, ...named(connectionName) }));
}

/**
 * A connection for producers and one-shot commands (enqueue, report, dlq): with no offline
 * queue, a Redis outage fails fast with an error instead of piling commands up in memory.
 */
export function createProducerConnection(redisUrl: string, connectionName?: string): Redis {
  return scrubbing(new Redis(redisUrl, { maxRetriesPerRequest: 3, enableOfflineQueue: false, lazyConnect: true, ...named(connectionName) }));
}

/**
 * Strips the command's arguments from every error the connection emits, before anyone else
 * sees it: listeners run in the order they were added, and this one is first. A failed
 * reconnect after a password change emits `command: { name: 'auth', args: [PASSWORD] }` every
 * retry, and BullMQ prints the errors of a queue with no listener of its own as they are.
 */
function scrubbing(redis: Redis): Redis {
  redis.on('error', scrubError);
  return redis;
}

/** A client name makes a connection visible in `CLIENT LIST` as the tool's (operators, and tests that kill connections, look for it). */
function named(connectionName: string | undefined): { connectionName?: string } {
  return connectionName === undefined ? {} : { connectionName };
}

/**
 * Connects a lazy connection, turning "Redis is not there" (or "refuses the password") into a
 * clear message that names the URL without its password and carries no command arguments.
 */
export async function connectOrExplain(redis: Redis, redisUrl: string): Promise<Redis> {
  if (redis.status === 'wait') {
    // ioredis rejects connect() with a bare "Connection is closed."; the cause (WRONGPASS, ECONNREFUSED) arrives as an 'error' event.
    let lastError: unknown;
    const remember = (error: unknown) => (lastError = error);
    redis.on('error', remember);
    try {
      await redis.connect();
    } catch (error) {
      redis.disconnect();
      const cause = scrubError(lastError ?? error);
      throw new ZohoAttachError('REDIS_UNREACHABLE', `cannot reach Redis at ${redactUrl(redisUrl)}: ${safeErrorMessage(cause).replace(/\.$/, '')}. Set REDIS_URL.`, { cause });
    } finally {
      redis.off('error', remember);
    }
  }
  return redis;
}
