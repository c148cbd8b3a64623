/**
 * A Redis for the demo (and for tests that must restart Redis): the one at `REDIS_URL`
 * when it answers, else a private `redis-server` on a free port, stopped afterwards.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { ZohoAttachError } from '../shared/errors.js';

/** A Redis the caller can use, and how to let go of it. */
export interface AvailableRedis {
  url: string;
  /** True when this process started it. */
  private: boolean;
  /** Stops a private server (a shared one is left alone). Idempotent. */
  stop(): Promise<void>;
}

/** True when a Redis answers PING at `url` within `timeoutMs`. */
export async function redisAnswers(url: string, timeoutMs = 1_000): Promise<boolean> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    connectTimeout: timeoutMs,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/** Options for {@link startPrivateRedis}. */
export interface PrivateRedisOptions {
  /** Keep data across restarts with an append-only file in `dir`. @defaultValue false */
  appendOnly?: boolean;
  /** Data folder. @defaultValue a new temporary folder, removed by stop() */
  dir?: string;
  /** Port. @defaultValue a free one */
  port?: number;
  /**
   * How often the append-only file is fsynced (only with `appendOnly`). `everysec` may lose the
   * last second of acknowledged writes when the machine or the server dies; `always` loses
   * none (every write is on disk before Redis answers), at the cost of throughput.
   * @defaultValue 'everysec'
   */
  appendFsync?: 'always' | 'everysec' | 'no';
  /**
   * More `redis-server` arguments, after the defaults: a later setting wins, so tests can run a
   * Redis configured the wrong way (e.g. `['--maxmemory-policy', 'allkeys-lru']`).
   * @defaultValue none
   */
  extraArgs?: string[];
}

/** A private redis-server this process started. */
export interface PrivateRedis extends AvailableRedis {
  port: number;
  dir: string;
  /** Stops the server without removing its data (for restart tests). */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and folder. */
  restart(): Promise<void>;
}

/** Starts a private `redis-server` (with `noeviction`, as BullMQ needs). */
export async function startPrivateRedis(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  if (spawnSync('redis-server', ['--version']).error) {
    throw new ZohoAttachError(
      'REDIS_UNAVAILABLE',
      'redis-server is not installed. Install it (Debian/Ubuntu: `apt-get install redis-server`, macOS: `brew install redis`), or point REDIS_URL at a running Redis.',
    );
  }
  const port = options.port ?? (await freePort());
  const ownsDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'zoho-attach-redis-')));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const start = async () => {
    child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--save',
        '',
        '--maxmemory-policy',
        'noeviction',
        '--appendonly',
        options.appendOnly ? 'yes' : 'no',
        '--appendfsync',
        options.appendFsync ?? 'everysec',
        ...(options.extraArgs ?? []),
      ],
      { stdio: 'ignore' },
    );
    for (let i = 0; i < 100; i++) {
      if (await redisAnswers(url, 200)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new ZohoAttachError('REDIS_UNAVAILABLE', `a private redis-server did not start on port ${port}`);
  };
  const kill = async (signal: NodeJS.Signals = 'SIGTERM') => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill(signal);
    });
  };

  await start();
  let stopping: Promise<void> | undefined;
  return {
    url,
    port,
    dir,
    private: true,
    kill,
    restart: start,
    stop() {
      stopping ??= (async () => {
        await kill();
        if (ownsDir) await rm(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}

/** The Redis at `url` if it answers, else a private one. */
export async function ensureRedis(url: string): Promise<AvailableRedis> {
  if (await redisAnswers(url)) return { url, private: false, stop: async () => {} };
  return startPrivateRedis();
}

/** A TCP port nothing listens on right now, on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
