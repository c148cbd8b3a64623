/**
 * The background chaos of a run, each on its own random timer: worker processes SIGKILLed
 * and restarted, the run's Redis connections killed, every access token expired, bursts of
 * 429s. Redis restarts and the revoked refresh token are not here: the run schedules them
 * by progress, so that they always happen while rows are still pending.
 */
import type { Redis } from 'ioredis';
import { randomBetween, sleep } from '../bench-support.js';
import type { FakeZoho } from '../../src/fake-zoho/index.js';
import type { ChaosOptions } from './chaos-options.js';
import type { WorkerPool } from './worker-pool.js';

/** What the disruptors did. */
export interface DisruptionCounts {
  workerKills: number;
  /** Rounds of CLIENT KILL, and the connections they killed (by kind of connection). */
  connectionKillRounds: number;
  connectionsKilled: number;
  connectionsKilledByKind: Record<string, number>;
  tokenExpiries: number;
  bursts429: number;
}

/** Runs `action` after a random delay in `[min, max]`, again and again, until stopped. */
class Loop {
  private stopped = false;
  private wake: (() => void) | undefined;
  private readonly done: Promise<void>;

  constructor(delay: () => number, action: () => Promise<void>, onError: (error: unknown) => void) {
    this.done = (async () => {
      while (!this.stopped) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, delay());
        });
        if (this.stopped) break;
        await action().catch(onError);
      }
    })();
  }

  /** Stops after the current action (if any) finishes. */
  stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    return this.done;
  }
}

/** Kills a random half (at least one) of the connections whose client name contains `queueName`. */
export async function killRunConnections(admin: Redis, queueName: string): Promise<Record<string, number>> {
  const list = (await admin.client('LIST')) as string;
  const ours = list
    .split('\n')
    .map((line) => ({ id: /\bid=(\d+)/.exec(line)?.[1], name: /\bname=(\S*)/.exec(line)?.[1] ?? '' }))
    // Only this run's connections, by name: never anybody else's.
    .filter((c): c is { id: string; name: string } => c.id !== undefined && c.name.includes(queueName));
  const chosen = ours.filter(() => Math.random() < 0.5);
  if (chosen.length === 0 && ours.length > 0) chosen.push(ours[Math.floor(Math.random() * ours.length)]!);
  const killed: Record<string, number> = {};
  for (const { id, name } of chosen) {
    if (Number(await admin.client('KILL', 'ID', id)) === 1) {
      const kind =
        name.endsWith(':ledger') || name.endsWith(':oauth') || name.endsWith(':worker')
          ? name.slice(name.lastIndexOf(':') + 1)
          : 'bullmq';
      killed[kind] = (killed[kind] ?? 0) + 1;
    }
  }
  return killed;
}

/** Starts every disruptor; `stop()` ends them and returns the counts. */
export function startDisruptors(deps: {
  options: ChaosOptions;
  fake: FakeZoho;
  pool: WorkerPool;
  admin: Redis;
  queueName: string;
  log: (line: string) => void;
}): {
  counts: DisruptionCounts;
  killWorker(): Promise<void>;
  killConnections(): Promise<void>;
  stop(): Promise<DisruptionCounts>;
} {
  const { options, fake, pool, admin, queueName, log } = deps;
  const counts: DisruptionCounts = {
    workerKills: 0,
    connectionKillRounds: 0,
    connectionsKilled: 0,
    connectionsKilledByKind: {},
    tokenExpiries: 0,
    bursts429: 0,
  };
  const onError = (what: string) => (error: unknown) => log(`${what} failed: ${(error as Error).message}`);
  const killWorker = async () => {
    const name = await pool.killAndRestart();
    if (name) counts.workerKills++;
  };
  const killConnections = async () => {
    const killed = await killRunConnections(admin, queueName);
    counts.connectionKillRounds++;
    for (const [kind, n] of Object.entries(killed)) {
      counts.connectionsKilled += n;
      counts.connectionsKilledByKind[kind] = (counts.connectionsKilledByKind[kind] ?? 0) + n;
    }
  };
  const loops = [
    new Loop(() => randomBetween(...options.workerKillEveryMs), killWorker, onError('worker kill')),
    new Loop(() => randomBetween(...options.connectionKillEveryMs), killConnections, onError('connection kill')),
    new Loop(
      () => options.tokenExpiryEveryMs,
      async () => {
        fake.expireAllTokens();
        counts.tokenExpiries++;
      },
      onError('token expiry'),
    ),
    new Loop(
      () => randomBetween(...options.burst429.everyMs),
      async () => {
        // A burst is a moment when Zoho refuses: up to `size` calls, for `lastsMs`. Calls that come
        // later (after a back-off) are not refused by a burst that is over.
        const id = fake.faults.add({ match: { path: 'upload' }, kind: 'error429', times: options.burst429.size });
        counts.bursts429++;
        await sleep(options.burst429.lastsMs);
        fake.faults.remove(id);
      },
      onError('429 burst'),
    ),
  ];
  return {
    counts,
    killWorker,
    killConnections,
    async stop() {
      await Promise.all(loops.map((loop) => loop.stop()));
      return counts;
    },
  };
}

/** Waits until `check` holds, polling; false when `timeoutMs` passed first. */
export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, pollMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(pollMs);
  }
  return false;
}
