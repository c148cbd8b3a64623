/**
 * Redis connections. BullMQ needs different settings for blocking worker connections
 * and for producers, so both are made here and nowhere else; so is the choice between one
 * server, a Redis Cluster and a Sentinel-watched primary, and the TLS settings.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisConfig } from '../config/config.js';

/** Where to connect: the parts of {@link RedisConfig} a connection needs. */
export type RedisTarget = Omit<RedisConfig, 'waitReplicas'>;
import { ZohoAttachError } from '../shared/errors.js';
import { redactUrl, safeErrorMessage, scrubError } from '../shared/redact.js';

/**
 * A connection for BullMQ workers and other long-lived consumers. `maxRetriesPerRequest: null`
 * makes commands wait through a Redis outage instead of failing, which BullMQ workers require.
 */
export function createWorkerConnection(target: RedisTarget, connectionName?: string): Redis {
  return scrubbing(
    connect(target, {
      maxRetriesPerRequest: null,
      enableReadyCheck: true,
      lazyConnect: false,
      ...named(connectionName),
    }),
  );
}

/**
 * A connection for producers and one-shot commands (enqueue, report, dlq): with no offline
 * queue, a Redis outage fails fast with an error instead of piling commands up in memory.
 */
export function createProducerConnection(target: RedisTarget, connectionName?: string): Redis {
  return scrubbing(
    connect(target, {
      maxRetriesPerRequest: 3,
      enableOfflineQueue: false,
      lazyConnect: true,
      ...named(connectionName),
    }),
  );
}

/**
 * A connection that tries once and gives up (the doctor, the health check): it reports a Redis
 * that is not there instead of waiting for it.
 */
export function createProbeConnection(target: RedisTarget, connectTimeoutMs: number): Redis {
  return scrubbing(
    connect(target, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: connectTimeoutMs,
      retryStrategy: () => null,
    }),
  );
}

/** One server, a cluster or a Sentinel-watched primary, with `options`. */
function connect(target: RedisTarget, options: RedisOptions): Redis {
  const tls = tlsOptions(target);
  if (target.clusterNodes !== undefined) {
    const { lazyConnect, enableOfflineQueue, ...nodeOptions } = options;
    const cluster = new Cluster(target.clusterNodes, {
      lazyConnect,
      enableOfflineQueue,
      enableReadyCheck: true,
      // A probe (no retryStrategy) gives up on the cluster as it does on one server.
      ...(options.retryStrategy ? { clusterRetryStrategy: () => null } : {}),
      // A connection that waits through an outage (maxRetriesPerRequest: null) also waits while the
      // cluster is down (a node restarting: CLUSTERDOWN until the others see it back), as it would
      // for one server; ioredis would otherwise give up after 16 tries, 100 ms apart.
      ...(options.maxRetriesPerRequest === null ? { maxRedirections: Infinity, retryDelayOnClusterDown: 250 } : {}),
      redisOptions: { ...credentialsOf(target.url), ...nodeOptions, ...(tls ? { tls } : {}) },
      // Nodes announce the addresses they were started with: TLS must check the name given here.
      ...(tls
        ? { dnsLookup: (address: string, callback: (error: null, address: string) => void) => callback(null, address) }
        : {}),
    });
    // Every key of the tool starts with the queue name, a {hash tag} on a cluster (config.ts), so
    // every command, pipeline and script touches one slot on one node: the rest of the code can
    // use the cluster as it uses one server.
    return cluster as unknown as Redis;
  }
  if (target.sentinel !== undefined) {
    return new Redis({
      ...credentialsOf(target.url),
      ...options,
      sentinels: target.sentinel.nodes,
      name: target.sentinel.name,
      // After a failover the old primary may live on as a replica: drop connections to it when
      // Sentinel announces the switch, and resend a write it refused (READONLY) once reconnected.
      failoverDetector: true,
      reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false),
      ...(tls ? { tls, enableTLSForSentinelMode: true, sentinelTLS: tls } : {}),
    });
  }
  return new Redis(target.url, { ...options, ...(tls ? { tls } : {}) });
}

/** TLS for `rediss://`, trusting `REDIS_TLS_CA` when set; undefined for plain `redis://`. */
function tlsOptions(target: RedisTarget): TlsOptions | undefined {
  if (!target.url.startsWith('rediss://')) return undefined;
  return target.tlsCaFile === undefined ? {} : { ca: readFileSync(target.tlsCaFile) };
}

/** User, password and database from a Redis URL (`redis://user:pass@host/2`, or `?password=`), for a cluster's or Sentinel's nodes. */
function credentialsOf(url: string): Pick<RedisOptions, 'username' | 'password' | 'db'> {
  const parsed = new URL(url);
  const password =
    parsed.password !== '' ? decodeURIComponent(parsed.password) : (parsed.searchParams.get('password') ?? undefined);
  const db = Number(parsed.pathname.replace(/^\//, '') || 0);
  return {
    ...(parsed.username !== '' ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(Number.isInteger(db) && db > 0 ? { db } : {}),
  };
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
export async function connectOrExplain(redis: Redis, target: RedisTarget): Promise<Redis> {
  const redisUrl = target.url;
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
      throw new ZohoAttachError(
        'REDIS_UNREACHABLE',
        `cannot reach Redis at ${redactUrl(redisUrl)}: ${safeErrorMessage(cause).replace(/\.$/, '')}. Set REDIS_URL.`,
        { cause },
      );
    } finally {
      redis.off('error', remember);
    }
  }
  return redis;
}
