/**
 * Is the Redis every worker shares fit for BullMQ: reachable, recent enough, never evicting
 * keys, and persisting them; and may this version use the queue in it.
 */
import { Cluster, type Redis } from 'ioredis';
import { LEDGER_FORMAT, markRefusal, readLedgerFormat } from '../ledger/ledger-format.js';
import { connectionWriting } from '../ledger/replicas.js';
import { createProbeConnection, type RedisTarget } from '../queue/connections.js';
import type { KeyNames } from '../shared/key-names.js';
import { redactUrl, safeErrorMessage } from '../shared/redact.js';
import type { CheckResult } from './check-result.js';

/** BullMQ refuses older servers. */
const MINIMUM_VERSION = '5.0.0';
/** BullMQ warns below this one. */
const RECOMMENDED_VERSION = '6.2.0';
/** How long the doctor waits for Redis to answer. */
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * Connects to `redisUrl` once, without retrying: the doctor reports a Redis that is not there
 * instead of waiting for it. Closing the connection is the caller's.
 * @returns the connection and a passed check, or a failed check naming REDIS_URL
 */
export async function connectToRedis(target: RedisTarget): Promise<{ redis?: Redis; result: CheckResult }> {
  const name = 'Redis reachable';
  const redisUrl = target.url;
  const redis = createProbeConnection(target, CONNECT_TIMEOUT_MS);
  // ioredis rejects connect() with a bare "Connection is closed."; the cause arrives as an 'error' event.
  let lastError: Error | undefined;
  redis.on('error', (error: Error) => (lastError = error));
  try {
    await redis.connect();
    await redis.ping();
    return { redis, result: { name, status: 'pass', detail: `Redis answers at ${redactUrl(redisUrl)}` } };
  } catch (error) {
    redis.disconnect();
    const reason = safeErrorMessage(lastError ?? error);
    return {
      result: {
        name,
        status: 'fail',
        detail: `cannot reach Redis at ${redactUrl(redisUrl)}: ${reason}`,
        fix: 'start Redis (e.g. `docker compose up -d redis`), or set REDIS_URL to the Redis every worker shares: redis://[user:password@]host:port[/db], rediss:// for TLS',
      },
    };
  }
}

/**
 * Version, eviction policy and persistence of a reachable Redis. On a cluster, of every master,
 * each named: the slot that holds the tool's keys can move to any of them.
 */
export async function checkRedisServer(redis: Redis): Promise<CheckResult[]> {
  if (!((redis as unknown) instanceof Cluster)) return checkOneServer(redis);
  const results: CheckResult[] = [];
  for (const node of (redis as unknown as Cluster).nodes('master')) {
    const where = `${node.options.host ?? '?'}:${node.options.port ?? '?'}`;
    for (const result of await checkOneServer(node)) results.push({ ...result, name: `${result.name} (${where})` });
  }
  return results;
}

/**
 * Whether the primary that holds the queue (`queueKey`; on a cluster, the master of its slot) has
 * the replicas `REDIS_WAIT_REPLICAS` asks for: with fewer, every posting lease waits in vain and
 * no upload is sent (each is retried as REDIS_NOT_REPLICATED).
 */
export async function checkReplicas(redis: Redis, waitReplicas: number, queueKey: string): Promise<CheckResult> {
  const name = 'Redis replicas';
  const primary = await connectionWriting(redis, queueKey);
  const info = primary ? parseInfo(await primary.info('replication')) : new Map<string, string>();
  const connected = Number(info.get('connected_slaves') ?? 0);
  if (connected >= waitReplicas) {
    return {
      name,
      status: 'pass',
      detail: `${connected} replica(s) connected; REDIS_WAIT_REPLICAS asks for ${waitReplicas}`,
    };
  }
  return {
    name,
    status: 'fail',
    detail: `${connected} replica(s) connected, but REDIS_WAIT_REPLICAS asks for ${waitReplicas}: no upload would be sent (each waits for its lease to reach the replicas, then is retried as REDIS_NOT_REPLICATED)`,
    fix: `bring the replicas back, or set REDIS_WAIT_REPLICAS=${connected} (0 accepts that a failover may lose a posting lease and upload a row twice)`,
  };
}

async function checkOneServer(redis: Redis): Promise<CheckResult[]> {
  const info = parseInfo(await redis.info());
  return [checkVersion(info), await checkEvictionPolicy(redis, info), await checkPersistence(redis, info)];
}

function checkVersion(info: Map<string, string>): CheckResult {
  const name = 'Redis version';
  const version = info.get('redis_version');
  if (version === undefined)
    return {
      name,
      status: 'warn',
      detail: 'the server does not report redis_version',
      fix: 'use Redis 7 (BullMQ is tested against Redis)',
    };
  if (compareVersions(version, MINIMUM_VERSION) < 0) {
    return {
      name,
      status: 'fail',
      detail: `Redis ${version}: BullMQ needs ${MINIMUM_VERSION} or newer`,
      fix: 'upgrade Redis to 7.x',
    };
  }
  if (compareVersions(version, RECOMMENDED_VERSION) < 0) {
    return {
      name,
      status: 'warn',
      detail: `Redis ${version}: works, but BullMQ recommends ${RECOMMENDED_VERSION} or newer`,
      fix: 'upgrade Redis to 7.x',
    };
  }
  return { name, status: 'pass', detail: `Redis ${version}` };
}

/**
 * BullMQ keeps every job in Redis: under memory pressure any policy but `noeviction` lets
 * Redis delete job keys, and rows vanish without a trace. Read with CONFIG GET, or from
 * INFO where CONFIG is disabled (managed Redis services often rename or block it).
 */
async function checkEvictionPolicy(redis: Redis, info: Map<string, string>): Promise<CheckResult> {
  const name = 'Redis maxmemory-policy';
  const setting = await configGet(redis, 'maxmemory-policy');
  const policy = setting.refused ? info.get('maxmemory_policy') : setting.value;
  const source = setting.refused ? ` (read from INFO: CONFIG is disabled on this server: ${setting.refused})` : '';
  if (policy === undefined) {
    return {
      name,
      status: 'warn',
      detail: `cannot read maxmemory-policy: CONFIG is disabled on this server (${setting.refused}) and INFO does not report it`,
      fix: "make sure the server runs with maxmemory-policy noeviction (a managed Redis: set it in the provider's parameter group)",
    };
  }
  if (policy !== 'noeviction') {
    return {
      name,
      status: 'fail',
      detail: `maxmemory-policy is ${policy}${source}: when memory runs short Redis deletes keys, and BullMQ loses queued uploads and the ledger`,
      fix: "set maxmemory-policy noeviction: `redis-cli CONFIG SET maxmemory-policy noeviction` now, and `maxmemory-policy noeviction` in redis.conf (or `--maxmemory-policy noeviction`; a managed Redis: the provider's parameter group) so it survives a restart",
    };
  }
  return { name, status: 'pass', detail: `noeviction${source}` };
}

/**
 * Without persistence a Redis restart forgets every queued job and the ledger of what was
 * uploaded; with AOF fsynced only every second (or when the OS likes), a crash loses the last
 * writes Redis acknowledged, and a lost "may already be stored" mark means a duplicate upload.
 * RELIABILITY.md ("Persistence") recommends AOF with `appendfsync always`, as docker-compose.yml runs it.
 */
async function checkPersistence(redis: Redis, info: Map<string, string>): Promise<CheckResult> {
  const name = 'Redis persistence';
  const appendOnly = await configGet(redis, 'appendonly');
  const aofOn = appendOnly.refused ? info.get('aof_enabled') === '1' : appendOnly.value === 'yes';
  if (aofOn) {
    const fsync = await configGet(redis, 'appendfsync');
    if (fsync.value === 'always') return { name, status: 'pass', detail: 'AOF on, appendfsync always' };
    const what = fsync.refused
      ? 'appendfsync cannot be read (CONFIG is disabled on this server)'
      : `appendfsync ${fsync.value}`;
    return {
      name,
      status: 'warn',
      detail: `AOF on, but ${what}: a Redis crash can lose the last writes it acknowledged (about 1 s with everysec), and a lost "may already be stored" mark can mean a duplicate upload`,
      fix: 'set appendfsync always: `redis-cli CONFIG SET appendfsync always` now, and `appendfsync always` in redis.conf (or `--appendfsync always`; the docker-compose.yml here does so)',
    };
  }

  const fix =
    'turn on AOF with appendfsync always: `redis-cli CONFIG SET appendonly yes` and `redis-cli CONFIG SET appendfsync always` now, and `appendonly yes` and `appendfsync always` in redis.conf (or `--appendonly yes --appendfsync always`; the docker-compose.yml here does so) so it survives a restart';
  const aofOff = appendOnly.refused ? 'AOF is off (INFO says aof_enabled:0)' : 'AOF is off (appendonly no)';
  const save = await configGet(redis, 'save');
  if (save.refused) {
    return {
      name,
      status: 'warn',
      detail: `${aofOff}, and whether RDB snapshots are on cannot be read: CONFIG is disabled on this server (${save.refused})`,
      fix,
    };
  }
  if (save.value) {
    return {
      name,
      status: 'warn',
      detail: `${aofOff}; only RDB snapshots (save ${save.value}): a crash loses what changed since the last snapshot, and the ledger with it`,
      fix,
    };
  }
  return {
    name,
    status: 'warn',
    detail: `${aofOff}, and no RDB snapshots: a Redis restart loses every queued upload and the ledger`,
    fix,
  };
}

/** CONFIG GET of one setting; `refused` holds the server's refusal when CONFIG is disabled or not allowed. */
async function configGet(redis: Redis, setting: string): Promise<{ value?: string; refused?: string }> {
  try {
    const reply = (await redis.config('GET', setting)) as string[];
    return { value: reply[1] ?? '' };
  } catch (error) {
    return { refused: (error as Error).message.trim() };
  }
}

/** INFO's `key:value` lines. */
function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

/** Compares dotted version numbers part by part. */
function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((n) => Number.parseInt(n, 10) || 0);
  const pb = b.split('.').map((n) => Number.parseInt(n, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const diff = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

/**
 * Whether this version may use the queue: every command of this version refuses a queue a newer
 * one wrote to (`LEDGER_FORMAT_NEWER`), or whose mark is no format number (`LEDGER_FORMAT_UNREADABLE`).
 */
export async function checkLedgerFormat(redis: Redis, keys: KeyNames): Promise<CheckResult> {
  const name = 'Ledger format';
  const found = await readLedgerFormat(redis, keys);
  const refusal = markRefusal(keys, found);
  if (refusal)
    return {
      name,
      status: 'fail',
      detail: `${refusal.problem}: every command of this version refuses the queue`,
      fix: refusal.fix,
    };
  return {
    name,
    status: 'pass',
    detail:
      found === undefined
        ? `no mark yet: new, or last used by a version before the mark; this version writes format ${LEDGER_FORMAT}`
        : `format ${found}; this version reads it and writes ${LEDGER_FORMAT}`,
  };
}
