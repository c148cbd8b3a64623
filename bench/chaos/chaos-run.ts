/**
 * A chaos run: thousands of rows through `zoho-attach` worker processes while Zoho (the
 * fake) misbehaves in every way the contract allows and the run kills what it can —
 * workers, Redis connections, Redis itself — then a verdict on what came out.
 *
 * Everything runs on a private redis-server with AOF (`appendfsync always`), so the Redis
 * restarts hurt nobody else, and the fake runs in this process on port 0.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/config.js';
import { startPrivateRedis, type PrivateRedis } from '../../src/demo/private-redis.js';
import { FAKE_CREDENTIALS, startFakeZoho, type FakeZoho, type FakeZohoSnapshot } from '../../src/fake-zoho/index.js';
import { createWorkerConnection } from '../../src/queue/connections.js';
import { UploadQueue } from '../../src/queue/upload-queue.js';
import { machineInfo, runCli, sleep, snapshotCli, type MachineInfo } from '../bench-support.js';
import { nodeHolding, startRedisCluster } from '../redis-cluster.js';
import { writeChaosManifest, type ChaosManifest } from './chaos-manifest.js';
import type { ChaosOptions } from './chaos-options.js';
import { startDisruptors, waitUntil, type DisruptionCounts } from './disruptors.js';
import { startTcpProxy, type TcpProxy } from '../../test/helpers/tcp-proxy.js';
import { judgeData, type DataVerdict, type DeadLetterGroupLine, type ReportLine } from './verdict.js';
import { WorkerPool, type WorkerExit } from './worker-pool.js';

const BATCH = 'chaos';

/** A Redis restart as it happened. */
export interface RedisRestartRecord {
  signal: 'SIGTERM' | 'SIGKILL';
  /** Rows finished and pending when Redis went down. */
  rowsDone: number;
  rowsPending: number;
  /** From the kill to the server answering again. */
  downMs: number;
}

/** The revoked refresh token, as it went. */
export interface RevocationRecord {
  rowsDone: number;
  rowsPending: number;
  /** The queue paused with this reason code (REFRESH_INVALID_CODE expected). */
  pauseCode: string | undefined;
  pauseHint: string | undefined;
  /** From the revocation to the pause being visible in Redis. */
  pausedAfterMs: number | undefined;
  /** `zoho-attach resume` runs it took to get going again (1 expected). */
  resumeCommands: number;
  resumeOutput: string[];
  /** Codes of pauses seen after a resume (none expected). */
  pausedAgainWith: string[];
}

/** Counts of the workers' `upload outcome` log lines. */
export interface OutcomeCounts {
  attempts: number;
  byResult: Record<string, number>;
  /** `result:code` for attempts that did not upload. */
  byResultAndCode: Record<string, number>;
}

/** Everything a chaos run measured, and its verdict. */
export interface ChaosResult {
  label: string;
  machine: MachineInfo;
  durationMs: number;
  queueName: string;
  options: ChaosOptions;
  rows: { total: number; toUpload: number; files: number; links: number; invalidModule: number; noPermission: number };
  faultsInjected: FakeZohoSnapshot['faultsFired'] & {
    bursts429Scheduled: number;
    tokenExpiries: number;
    refreshTokenRevocations: number;
  };
  /** Issue 10's faults: late stores and listing lag, operators reviving rows mid-run, a worker cut off from Redis. */
  exactlyOnce: {
    lateStores: number;
    listLagMs: number;
    /** Extra copies settle-and-verify deleted (the batch's counter). */
    copiesRemoved: number;
    verificationsDue: number;
    /** Attempts that ended LEASE_LOST: posts a cut-off worker aborted itself. */
    leaseLostAborts: number;
    /** What the scenario's operator did, with each command's output. */
    operatorActions: string[];
  };
  disruptions: {
    workerKills: number;
    workerProcessesStarted: number;
    workerCrashes: number;
    connectionKillRounds: number;
    connectionsKilled: number;
    connectionsKilledByKind: Record<string, number>;
    redisRestarts: RedisRestartRecord[];
  };
  revocation: RevocationRecord | undefined;
  data: DataVerdict | undefined;
  concurrency: { limit: number; peakInFlight: number; refusedOverLimit: number };
  tokens: {
    refreshes: number;
    refreshesRefused: number;
    /** One refresh at the start and one per expiry (the run's and the revocation's): what single flight needs. */
    refreshesNeeded: number;
    /** The throttle's allowance over the whole run. */
    refreshesThrottleAllows: number;
    maxRefreshesInWindow: number;
    throttle: { max: number; windowMs: number };
    throttledAttempts: number;
  };
  outcomes: OutcomeCounts;
  fakeAnswers: Record<string, number>;
  queueAtEnd: Record<string, number>;
  workerExits: WorkerExit[];
  timeline: Array<{ t: number; done: number; pending: number }>;
  failures: string[];
  passed: boolean;
  /** Where the manifest and the worker logs are (kept when the run failed or when asked). */
  runDir: string;
}

/** Runs one chaos run. Never throws for a failed verdict: `result.failures` says what failed. */
export async function runChaos(
  options: ChaosOptions,
  io: {
    log?: (line: string) => void;
    keepRunDir?: boolean;
    runDir?: string;
    /** Run on a private 3-node Redis Cluster (AOF on every node) instead of one redis-server. */
    cluster?: boolean;
  } = {},
): Promise<ChaosResult> {
  const log = io.log ?? (() => {});
  const started = Date.now();
  const elapsed = () => Date.now() - started;
  const failures: string[] = [];
  const runDir = io.runDir ?? (await mkdtemp(path.join(os.tmpdir(), `za-chaos-${options.label}-`)));
  const logDir = path.join(runDir, 'logs');
  await mkdir(logDir, { recursive: true });
  const queueName = `za-chaos-${randomUUID().slice(0, 8)}`;

  const cleanups: Array<() => Promise<unknown>> = [];
  try {
    const cli = await snapshotCli();
    cleanups.push(() => cli.remove());
    const { cliPath } = cli;
    // appendfsync always: a write Redis acknowledged is on disk, so a crash (SIGKILL) loses none of them.
    // On a cluster, `redis` is the node that holds the queue's hash slot: the one restarted, and
    // where connections are killed.
    let redis: PrivateRedis;
    let clusterNodes: string | undefined;
    if (io.cluster) {
      const cluster = await startRedisCluster({ appendOnly: true });
      cleanups.push(() => cluster.stop());
      clusterNodes = cluster.nodesList;
      redis = await nodeHolding(cluster, `{${queueName}}`);
    } else {
      const single = await startPrivateRedis({ appendOnly: true, appendFsync: 'always' });
      cleanups.push(() => single.stop());
      redis = single;
    }
    const fake = await startFakeZoho({
      concurrencyLimit: options.concurrencyLimit,
      latencyMs: options.latencyMs,
      refreshLimit: options.refreshLimit,
      // Bytes are kept: adoption and settle-and-verify download look-alike copies to compare them.
      storeContent: true,
      listLagMs: options.listLagMs,
      onInternalError: (error) => failures.push(`the fake failed internally: ${(error as Error).message}`),
    });
    cleanups.push(() => fake.close());
    log(
      `chaos ${options.label}: private ${clusterNodes ? `3-node Redis Cluster ${clusterNodes}, the queue's slot on ${redis.url}` : `redis ${redis.url}`} (AOF, appendfsync always), fake Zoho ${fake.url}, queue ${queueName}, run dir ${runDir}`,
    );

    const manifest = await writeChaosManifest(runDir, options);
    const env = {
      ...workerEnv(options, redis.url, fake.url, queueName, runDir),
      ...(clusterNodes ? { REDIS_CLUSTER_NODES: clusterNodes } : {}),
    };
    const enqueue = await runCli(['enqueue', manifest.path, '--batch', BATCH], env, runDir, {
      timeoutMs: 120_000,
      cliPath,
    });
    if (enqueue.code !== 0) throw new Error(`enqueue failed (exit ${enqueue.code}): ${enqueue.stderr}`);
    log(`enqueued ${manifest.rows.length} rows in ${elapsed()} ms`);
    const fixableRules = installFaults(fake, manifest, options);

    const observer = createWorkerConnection(loadConfig(env, runDir).redis, 'chaos-observer');
    const admin = createWorkerConnection({ url: redis.url }, 'chaos-admin');
    for (const connection of [observer, admin]) connection.on('error', () => {});
    cleanups.push(async () => Promise.all([observer, admin].map((r) => r.quit().catch(() => r.disconnect()))));
    const uploadQueue = await UploadQueue.open(loadConfig(env, runDir), observer);
    uploadQueue.queue.on('error', () => {});
    cleanups.push(() => uploadQueue.close());

    const progress = async () => {
      const meta = await uploadQueue.ledger.getBatch(BATCH);
      return { done: (meta?.uploaded ?? 0) + (meta?.dead ?? 0), pending: meta?.pending ?? 0, owned: meta?.owned ?? 0 };
    };
    const total = (await progress()).owned;

    const pool = new WorkerPool({
      count: options.workers,
      args: ['worker', '--concurrency', String(options.concurrencyLimit)],
      env,
      cwd: runDir,
      logDir,
      cliPath,
    });
    cleanups.push(() => pool.stopAll(1_000));
    pool.startAll();
    // One more worker reaches Redis through a proxy the scenario cuts: a worker cut off from Redis while
    // it posts. Not on a cluster: its clients follow the nodes' own addresses, around any proxy.
    const redisAddress = new URL(redis.url);
    const proxy = await startTcpProxy(redisAddress.hostname, Number(redisAddress.port));
    cleanups.push(() => proxy.close());
    const cutOffPool = new WorkerPool({
      count: clusterNodes ? 0 : 1,
      args: ['worker', '--concurrency', String(options.concurrencyLimit)],
      env: { ...env, REDIS_URL: `redis://127.0.0.1:${proxy.port}` },
      cwd: runDir,
      logDir: path.join(logDir, 'cut-off'),
      cliPath,
    });
    await mkdir(path.join(logDir, 'cut-off'), { recursive: true });
    cleanups.push(() => cutOffPool.stopAll(1_000));
    cutOffPool.startAll();
    const disruptors = startDisruptors({ options, fake, pool, admin, queueName, log });
    const deadline = started + options.deadlineMs;

    const samplers = startSamplers(fake, progress, started);
    const scenario = runScenario({
      options,
      redis,
      fake,
      uploadQueue,
      progress,
      total,
      env,
      runDir,
      cliPath,
      deadline,
      log,
      disruptors,
      proxy,
      fixableRules,
      manifestPath: manifest.path,
      clusterMode: clusterNodes !== undefined,
    });

    // Done: every row has its final outcome in the ledger, nothing left in the queue, and the scenario played out.
    let scenarioDone = false;
    void scenario.then(() => (scenarioDone = true));
    let finished = false;
    while (Date.now() < deadline) {
      const p = await progress();
      if (scenarioDone && p.pending === 0 && (await uploadQueue.isIdle())) {
        finished = true;
        break;
      }
      await sleep(250);
    }
    const counts: DisruptionCounts = await disruptors.stop();
    const scenarioRecord = await Promise.race([scenario, sleep(1_000).then(() => undefined)]);
    samplers.stop();
    if (!finished)
      failures.push(
        `the run did not finish within ${options.deadlineMs} ms: ${JSON.stringify(await progress())}, queue ${JSON.stringify(await uploadQueue.jobCounts())}`,
      );
    log(`${finished ? 'finished' : 'gave up'} after ${elapsed()} ms; stopping workers`);
    await Promise.all([
      pool.stopAll(options.lockDurationMs + 15_000),
      cutOffPool.stopAll(options.lockDurationMs + 15_000),
    ]);

    const snapshot = fake.inspect();
    const report = await readReport(env, runDir, cliPath);
    const dlq = await runCli(['dlq', 'list', '--json'], env, runDir, { cliPath });
    if (dlq.code !== 0) failures.push(`dlq list failed: ${dlq.stderr}`);
    const deadLetters = dlq.code === 0 ? (JSON.parse(dlq.stdout) as DeadLetterGroupLine[]) : [];
    const data = judgeData(manifest.rows, report, snapshot.attachments, deadLetters);
    failures.push(...data.failures);
    if (deadLetters.some((g) => g.code === 'REFRESH_THROTTLED'))
      failures.push('rows were dead-lettered for REFRESH_THROTTLED');

    const queueAtEnd = await uploadQueue.jobCounts();
    for (const state of ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children'] as const) {
      if ((queueAtEnd[state] ?? 0) > 0) failures.push(`${queueAtEnd[state]} job(s) left ${state}`);
    }
    const expectedDead = Object.values(data.expectedDeadByCode).reduce((a, b) => a + b, 0);
    if ((queueAtEnd.failed ?? 0) !== expectedDead)
      failures.push(`${queueAtEnd.failed} failed jobs in the queue, ${expectedDead} expected`);

    const outcomes = countOutcomes([...(await pool.logLines()), ...(await cutOffPool.logLines())]);
    const batchAtEnd = await uploadQueue.ledger.getBatch(BATCH);
    const refusedOverLimit = (snapshot.counters['429 TOO_MANY_REQUESTS'] ?? 0) - snapshot.faultsFired.error429;
    if (snapshot.peakInFlight > options.concurrencyLimit)
      failures.push(`peak in flight ${snapshot.peakInFlight} > limit ${options.concurrencyLimit}`);

    const crashes = pool.exits.filter((e) => e.cause === 'crashed');
    if (crashes.length > 0)
      failures.push(
        `${crashes.length} worker process(es) exited unasked: ${crashes.map((c) => `${c.name} code ${c.code} signal ${c.signal}`).join(', ')}`,
      );
    // A process still loading when SIGTERM came dies of the signal: it had taken no job.
    const badStops = pool.exits.filter(
      (e) => e.cause === 'stopped' && e.code !== 0 && !(e.signal === 'SIGTERM' && !e.started),
    );
    if (badStops.length > 0)
      failures.push(
        `worker(s) did not stop cleanly on SIGTERM: ${badStops.map((c) => `${c.name} code ${c.code} signal ${c.signal}`).join(', ')}`,
      );

    const scenarioResult = scenarioRecord ?? {
      restarts: [],
      revocation: undefined,
      operatorActions: [],
      failures: ['the scenario did not finish'],
    };
    failures.push(...scenarioResult.failures);
    if (scenarioResult.restarts.length < options.redisRestarts.length)
      failures.push(`${scenarioResult.restarts.length} of ${options.redisRestarts.length} Redis restarts happened`);
    if (counts.workerKills < 1) failures.push('no worker was killed');
    if (counts.connectionsKilled < 1) failures.push('no Redis connection was killed');
    // Single flight: one refresh at the start, one per expiry (the scheduled ones and the revocation's), no more.
    const refreshesAllowed = counts.tokenExpiries + 2;
    if (snapshot.tokens.refreshes > refreshesAllowed)
      failures.push(
        `${snapshot.tokens.refreshes} token refreshes for ${counts.tokenExpiries} expiries (at most ${refreshesAllowed}: not single-flight)`,
      );
    const maxRefreshesInWindow = samplers.maxRefreshesIn(options.refreshLimit.windowMs);
    // What the throttle lets through in the whole run (the fake enforces it; the tool must live with it).
    const refreshesThrottleAllows = options.refreshLimit.max * Math.ceil(elapsed() / options.refreshLimit.windowMs);
    if (snapshot.tokens.refreshes > refreshesThrottleAllows)
      failures.push(`${snapshot.tokens.refreshes} refreshes, the throttle allows ${refreshesThrottleAllows}`);

    const result: ChaosResult = {
      label: options.label,
      machine: machineInfo(),
      durationMs: elapsed(),
      queueName,
      options,
      rows: {
        total: manifest.rows.length,
        toUpload: data.rowsToUpload,
        files: manifest.rows.filter((r) => r.kind === 'file').length,
        links: manifest.rows.filter((r) => r.kind === 'link').length,
        invalidModule: data.expectedDeadByCode.INVALID_MODULE ?? 0,
        noPermission: data.expectedDeadByCode.NO_PERMISSION ?? 0,
      },
      faultsInjected: {
        ...snapshot.faultsFired,
        bursts429Scheduled: counts.bursts429,
        tokenExpiries: counts.tokenExpiries,
        refreshTokenRevocations: scenarioResult.revocation ? 1 : 0,
      },
      exactlyOnce: {
        lateStores: snapshot.faultsFired.lateStore,
        listLagMs: options.listLagMs,
        copiesRemoved: batchAtEnd?.copiesRemoved ?? 0,
        verificationsDue: batchAtEnd?.verifying ?? 0,
        leaseLostAborts: Object.entries(outcomes.byResultAndCode)
          .filter(([key]) => key.endsWith(':LEASE_LOST'))
          .reduce((n, [, v]) => n + v, 0),
        operatorActions: scenarioResult.operatorActions,
      },
      disruptions: {
        workerKills: counts.workerKills,
        workerProcessesStarted: pool.started,
        workerCrashes: crashes.length,
        connectionKillRounds: counts.connectionKillRounds,
        connectionsKilled: counts.connectionsKilled,
        connectionsKilledByKind: counts.connectionsKilledByKind,
        redisRestarts: scenarioResult.restarts,
      },
      revocation: scenarioResult.revocation,
      data,
      concurrency: { limit: options.concurrencyLimit, peakInFlight: snapshot.peakInFlight, refusedOverLimit },
      tokens: {
        refreshes: snapshot.tokens.refreshes,
        refreshesRefused: snapshot.tokens.refreshesRefused,
        refreshesNeeded: refreshesAllowed,
        refreshesThrottleAllows,
        maxRefreshesInWindow,
        throttle: options.refreshLimit,
        throttledAttempts: outcomes.byResultAndCode['rate-limited:REFRESH_THROTTLED'] ?? 0,
      },
      outcomes,
      fakeAnswers: snapshot.counters,
      queueAtEnd,
      workerExits: pool.exits,
      timeline: samplers.timeline,
      failures,
      passed: failures.length === 0,
      runDir,
    };
    return result;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    if (failures.length === 0 && !io.keepRunDir && io.runDir === undefined)
      await rm(runDir, { recursive: true, force: true });
  }
}

/** The environment of every CLI process of the run. */
function workerEnv(
  options: ChaosOptions,
  redisUrl: string,
  fakeUrl: string,
  queueName: string,
  runDir: string,
): Record<string, string> {
  return {
    REDIS_URL: redisUrl,
    ZOHO_ACCOUNTS_URL: fakeUrl,
    ZOHO_API_DOMAIN: fakeUrl,
    ZOHO_CLIENT_ID: FAKE_CREDENTIALS.clientId,
    ZOHO_CLIENT_SECRET: FAKE_CREDENTIALS.clientSecret,
    ZOHO_REFRESH_TOKEN: FAKE_CREDENTIALS.refreshToken,
    ZOHO_ATTACH_QUEUE: queueName,
    ZOHO_ATTACH_FILE_ROOTS: runDir,
    ZOHO_CONCURRENCY: String(options.concurrencyLimit),
    ZOHO_REQUEST_TIMEOUT_MS: String(options.requestTimeoutMs),
    ZOHO_ATTACH_BACKOFF_MS: String(options.backoffMs),
    ZOHO_ATTACH_RATE_LIMIT_PAUSE_MS: String(options.rateLimitPauseMs),
    ZOHO_ATTACH_LOCK_DURATION_MS: String(options.lockDurationMs),
    ZOHO_ATTACH_SHUTDOWN_TIMEOUT_MS: '5000',
    ZOHO_ATTACH_SETTLE_MS: String(options.settleMs),
    // info: every attempt's outcome is logged, and counted at the end.
    LOG_LEVEL: 'info',
  };
}

/**
 * The fake's fault rules. The permanent refusals come first: rules are tried in order and the
 * first that fires decides, so a NO_PERMISSION record is refused on every upload, never
 * "stored then 500" — its expected outcome is certain.
 */
function installFaults(
  fake: FakeZoho,
  manifest: ChaosManifest,
  options: ChaosOptions,
): { retry: string[]; purge: string[] } {
  for (const recordId of manifest.noPermissionRecordIds) {
    fake.faults.add({ match: { path: 'upload', recordId }, kind: 'noPermission', times: Infinity });
  }
  // Refused until fixed; each row's first upload is stored first (a 500 after storing, which the
  // listing lag hides from the retry's listing), so its row dies "may already be stored".
  const fixable = (recordIds: string[], rowsPerRecord: number, refusal: 'noPermission' | 'authorizationFailed') =>
    recordIds.flatMap((recordId) => [
      fake.faults.add({ match: { path: 'upload', recordId }, kind: 'storeThen500', times: rowsPerRecord }),
      fake.faults.add({ match: { path: 'upload', recordId }, kind: refusal, times: Infinity }),
    ]);
  const retry = fixable(manifest.fixedByRetryRecordIds, options.fixedByRetry.rowsPerRecord, 'noPermission');
  const purge = fixable(manifest.fixedByPurgeRecordIds, options.fixedByPurge.rowsPerRecord, 'authorizationFailed');
  const rates = options.faultRates;
  const upload = { path: 'upload' } as const;
  fake.faults.add({ match: upload, kind: 'error500', probability: rates.error500, times: Infinity });
  fake.faults.add({ match: upload, kind: 'storeThen500', probability: rates.storeThen500, times: Infinity });
  fake.faults.add({ match: upload, kind: 'resetAfterStore', probability: rates.resetAfterStore, times: Infinity });
  fake.faults.add({ match: upload, kind: 'reset', probability: rates.reset, times: Infinity });
  fake.faults.add({ match: upload, kind: 'hang', probability: rates.hang, times: Infinity });
  fake.faults.add({
    match: upload,
    kind: 'lateStore',
    probability: rates.lateStore,
    times: Infinity,
    delayMs: options.lateStoreMs,
  });
  fake.faults.add({ match: { path: 'list' }, kind: 'error500', probability: rates.listError500, times: Infinity });
  return { retry, purge };
}

type Progress = () => Promise<{ done: number; pending: number; owned: number }>;

/**
 * The scheduled chaos: Redis restarts and the revoked refresh token, each when its share of
 * rows is finished (so always while rows are pending), one after the other.
 */
async function runScenario(deps: {
  options: ChaosOptions;
  redis: PrivateRedis;
  fake: FakeZoho;
  uploadQueue: UploadQueue;
  progress: Progress;
  total: number;
  env: Record<string, string>;
  runDir: string;
  cliPath: string;
  deadline: number;
  log: (line: string) => void;
  disruptors: { killWorker(): Promise<void>; killConnections(): Promise<void> };
  proxy: TcpProxy;
  fixableRules: { retry: string[]; purge: string[] };
  manifestPath: string;
  /** On a cluster the cut-off worker does not run (see runChaos). */
  clusterMode: boolean;
}): Promise<{
  restarts: RedisRestartRecord[];
  revocation: RevocationRecord | undefined;
  operatorActions: string[];
  failures: string[];
}> {
  const {
    options,
    redis,
    fake,
    uploadQueue,
    progress,
    total,
    env,
    runDir,
    cliPath,
    deadline,
    log,
    disruptors,
    proxy,
    fixableRules,
  } = deps;
  const failures: string[] = [];
  const restarts: RedisRestartRecord[] = [];
  const operatorActions: string[] = [];
  let revocation: RevocationRecord | undefined;
  const events = [
    // Besides the random ones: one worker kill and one round of connection kills for certain, early on.
    { at: 0.1, run: () => disruptors.killWorker() },
    { at: 0.12, run: () => disruptors.killConnections() },
    ...options.redisRestarts.map((plan) => ({ at: plan.atProgress, run: () => restartRedis(plan) })),
    { at: options.revoke.atProgress, run: () => revoke() },
    ...(deps.clusterMode ? [] : [{ at: options.cutOff.atProgress, run: () => cutOff() }]),
    { at: options.fixedByRetry.atProgress, run: () => fix('retry') },
    { at: options.fixedByPurge.atProgress, run: () => fix('purge') },
  ].sort((a, b) => a.at - b.at);

  /** An operator's command, recorded; a failure fails the run. */
  const operator = async (args: string[]) => {
    const run = await runCli(args, env, runDir, { cliPath, timeoutMs: 120_000 });
    const said = `zoho-attach ${args.join(' ')} → exit ${run.code}: ${(run.stdout.trim() || run.stderr.trim()).split('\n').slice(-1)[0] ?? ''}`;
    operatorActions.push(said);
    log(said);
    if (run.code !== 0) failures.push(`${said}\n${run.stderr}`);
  };

  // The operator fixes the records' permission, then revives their dead letters.
  const fix = async (how: 'retry' | 'purge') => {
    for (const id of fixableRules[how]) fake.faults.remove(id);
    if (how === 'retry') await operator(['dlq', 'retry', '--code', 'NO_PERMISSION']);
    else {
      await operator(['dlq', 'purge', '--code', 'AUTHORIZATION_FAILED']);
      await operator(['enqueue', deps.manifestPath, '--batch', BATCH]);
    }
  };

  // The extra worker's Redis goes silent (no reset, no FIN) while it may be posting, then comes back.
  const cutOff = async () => {
    const before = await progress();
    proxy.cut();
    log(
      `cut the extra worker off from Redis for ${options.cutOff.forMs} ms (${before.done} done, ${before.pending} pending)`,
    );
    await sleep(options.cutOff.forMs);
    proxy.restore();
    if (before.pending === 0) failures.push('the worker was cut off after every row was done');
  };

  const restartRedis = async (plan: ChaosOptions['redisRestarts'][number]) => {
    const before = await progress();
    const down = Date.now();
    await redis.kill(plan.signal);
    await sleep(plan.downMs);
    await redis.restart();
    const record = {
      signal: plan.signal,
      rowsDone: before.done,
      rowsPending: before.pending,
      downMs: Date.now() - down,
    };
    restarts.push(record);
    log(
      `redis restarted (${plan.signal}, down ${record.downMs} ms) with ${before.done} rows done, ${before.pending} pending`,
    );
    if (before.pending === 0) failures.push('a Redis restart happened after every row was done');
  };

  const revoke = async () => {
    const before = await progress();
    const revokedAt = Date.now();
    fake.revokeRefreshToken(FAKE_CREDENTIALS.refreshToken);
    // Without a refresh nobody would notice the revocation: make every token die now.
    fake.expireAllTokens();
    const record: RevocationRecord = {
      rowsDone: before.done,
      rowsPending: before.pending,
      pauseCode: undefined,
      pauseHint: undefined,
      pausedAfterMs: undefined,
      resumeCommands: 0,
      resumeOutput: [],
      pausedAgainWith: [],
    };
    revocation = record;
    const paused = await waitUntil(async () => (await uploadQueue.pauseControl.status()).paused, 30_000);
    const status = await uploadQueue.pauseControl.status();
    record.pauseCode = status.reason?.code;
    record.pauseHint = status.reason?.hint;
    record.pausedAfterMs = paused ? Date.now() - revokedAt : undefined;
    if (!paused || status.reason?.code !== 'REFRESH_INVALID_CODE')
      failures.push(
        `the revoked refresh token did not pause the queue with REFRESH_INVALID_CODE (paused ${paused}, reason ${status.reason?.code})`,
      );
    log(`queue paused after ${record.pausedAfterMs} ms: [${record.pauseCode}] ${record.pauseHint}`);

    // The operator fixes the token, then resumes with one command.
    await sleep(options.revoke.holdMs);
    fake.restoreRefreshToken(FAKE_CREDENTIALS.refreshToken);
    const resume = async () => {
      const run = await runCli(['resume'], env, runDir, { cliPath });
      record.resumeCommands++;
      record.resumeOutput.push(run.stdout.trim() || run.stderr.trim());
      if (run.code !== 0) failures.push(`zoho-attach resume exited ${run.code}: ${run.stderr}`);
    };
    await resume();
    // It must stay resumed: watch long enough for a held refresh failure (5 s) and the parked jobs (back after 5 s) to come back.
    const watchUntil = Date.now() + 6_000;
    while (Date.now() < watchUntil && Date.now() < deadline) {
      const again = await uploadQueue.pauseControl.status();
      if (again.paused) {
        record.pausedAgainWith.push(again.reason?.code ?? 'unknown');
        log(`queue paused again after resume: [${again.reason?.code}] ${again.reason?.message}`);
        if (record.resumeCommands >= 5) break;
        await sleep(options.revoke.holdMs);
        await resume();
      }
      await sleep(100);
    }
    if (record.resumeCommands !== 1)
      failures.push(
        `resuming took ${record.resumeCommands} \`zoho-attach resume\` commands (paused again with ${record.pausedAgainWith.join(', ')})`,
      );
    if (before.pending === 0) failures.push('the revocation happened after every row was done');
    log(`resumed with ${record.resumeCommands} command(s)`);
  };

  for (const event of events) {
    const reached = await waitUntil(
      async () => (await progress()).done >= event.at * total,
      deadline - Date.now(),
      100,
    );
    if (!reached) {
      failures.push(`the run never reached ${Math.round(event.at * 100)} % of rows done`);
      break;
    }
    try {
      await event.run();
    } catch (error) {
      failures.push(`a scheduled disruption failed: ${(error as Error).message}`);
    }
  }
  return { restarts, revocation, operatorActions, failures };
}

/** Progress over time, and the fake's refresh count (for the throttle window). */
function startSamplers(fake: FakeZoho, progress: Progress, started: number) {
  const timeline: Array<{ t: number; done: number; pending: number }> = [];
  const refreshes: Array<{ t: number; n: number }> = [];
  const tokenTimer = setInterval(() => refreshes.push({ t: Date.now(), n: fake.inspect().tokens.refreshes }), 100);
  let stopped = false;
  void (async () => {
    while (!stopped) {
      const p = await progress().catch(() => undefined);
      if (p) timeline.push({ t: Date.now() - started, done: p.done, pending: p.pending });
      await sleep(1_000);
    }
  })();
  return {
    timeline,
    stop() {
      stopped = true;
      clearInterval(tokenTimer);
      refreshes.push({ t: Date.now(), n: fake.inspect().tokens.refreshes });
    },
    /**
     * The most refreshes between two samples at most `windowMs` apart (sampled every 100 ms, so
     * a refresh within 100 ms of a window's edge may be missed).
     */
    maxRefreshesIn(windowMs: number): number {
      let max = 0;
      let from = 0;
      for (let to = 0; to < refreshes.length; to++) {
        while (refreshes[to]!.t - refreshes[from]!.t > windowMs) from++;
        max = Math.max(max, refreshes[to]!.n - refreshes[from]!.n);
      }
      return max;
    },
  };
}

/** The batch's report, through the CLI as an operator would get it. */
async function readReport(env: Record<string, string>, runDir: string, cliPath: string): Promise<ReportLine[]> {
  const out = path.join(runDir, 'report.jsonl');
  const run = await runCli(['report', '--batch', BATCH, '--format', 'jsonl', '--out', out], env, runDir, {
    timeoutMs: 120_000,
    cliPath,
  });
  if (run.code !== 0) throw new Error(`report failed (exit ${run.code}): ${run.stderr}`);
  return (await readFile(out, 'utf8'))
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as ReportLine);
}

/** Tallies the workers' `upload outcome` lines. */
function countOutcomes(lines: Array<Record<string, unknown>>): OutcomeCounts {
  const counts: OutcomeCounts = { attempts: 0, byResult: {}, byResultAndCode: {} };
  for (const line of lines) {
    if (line.msg !== 'upload outcome') continue;
    const result = String(line.outcome);
    counts.attempts++;
    counts.byResult[result] = (counts.byResult[result] ?? 0) + 1;
    if (line.errorCode !== undefined) {
      const key = `${result}:${typeof line.errorCode === 'string' ? line.errorCode : JSON.stringify(line.errorCode)}`;
      counts.byResultAndCode[key] = (counts.byResultAndCode[key] ?? 0) + 1;
    }
  }
  return counts;
}

/** The figures of a run as a plain-text table. */
export function formatChaosSummary(result: ChaosResult): string {
  const rows: Array<[string, string]> = [];
  const add = (label: string, value: unknown) =>
    rows.push([label, typeof value === 'string' ? value : JSON.stringify(value)]);
  add(
    'run',
    `${result.label}, ${(result.durationMs / 1000).toFixed(1)} s, ${result.machine.cores} cores, ${result.machine.date}`,
  );
  add(
    'rows',
    `${result.rows.total} (${result.rows.files} files, ${result.rows.links} links; ${result.rows.invalidModule} in an unknown module, ${result.rows.noPermission} on records without permission)`,
  );
  const f = result.faultsInjected;
  add(
    'faults injected',
    `500 ${f.error500}, stored-then-500 ${f.storeThen500}, reset ${f.reset}, stored-then-reset ${f.resetAfterStore}, hang ${f.hang}, 429 ${f.error429} (${f.bursts429Scheduled} bursts), 403 ${f.noPermission}, token expiries ${f.tokenExpiries}, refresh token revoked ${f.refreshTokenRevocations}`,
  );
  const e = result.exactlyOnce;
  add(
    'late stores, listing lag',
    `${e.lateStores} uploads stored ${result.options.lateStoreMs} ms after the client gave up; list lags ${e.listLagMs} ms; ${e.copiesRemoved} extra copies removed by settle-and-verify (${e.verificationsDue} still due)`,
  );
  add('cut-off worker', `${e.leaseLostAborts} posts aborted by their own worker (LEASE_LOST)`);
  add('operator mid-run', e.operatorActions.join(' | ') || 'none');
  const d = result.disruptions;
  add(
    'worker kills (SIGKILL)',
    `${d.workerKills} (${d.workerProcessesStarted} processes started, ${d.workerCrashes} crashed)`,
  );
  add(
    'Redis connections killed',
    `${d.connectionsKilled} in ${d.connectionKillRounds} rounds ${JSON.stringify(d.connectionsKilledByKind)}`,
  );
  add(
    'Redis restarts',
    d.redisRestarts
      .map((r) => `${r.signal} at ${r.rowsDone} done/${r.rowsPending} pending, down ${r.downMs} ms`)
      .join('; ') || 'none',
  );
  const r = result.revocation;
  add(
    'revoked refresh token',
    r
      ? `paused [${r.pauseCode}] after ${r.pausedAfterMs} ms; resume commands ${r.resumeCommands}${r.pausedAgainWith.length ? `, paused again: ${r.pausedAgainWith.join(',')}` : ''}`
      : 'not done',
  );
  if (result.data) {
    add('uploaded exactly once', `${result.data.uploadedExactlyOnce} of ${result.data.rowsToUpload}`);
    add('duplicates', result.data.duplicates);
    add('losses', result.data.losses);
    add('orphan attachments', result.data.orphans);
    add('dead letters by code', result.data.deadLettersByCode);
    add('expected dead letters', result.data.expectedDeadByCode);
  }
  add(
    'peak in flight / limit',
    `${result.concurrency.peakInFlight} / ${result.concurrency.limit} (calls refused for exceeding it: ${result.concurrency.refusedOverLimit})`,
  );
  const t = result.tokens;
  add(
    'token refreshes',
    `${t.refreshes} minted (single flight needs ≤ ${t.refreshesNeeded}; throttle ${t.throttle.max}/${t.throttle.windowMs / 1000} s allows ${t.refreshesThrottleAllows}; sampled max in a window ${t.maxRefreshesInWindow}), ${t.refreshesRefused} refused; attempts held back by REFRESH_THROTTLED ${t.throttledAttempts}`,
  );
  add('attempt outcomes', result.outcomes.byResult);
  add('queue at end', result.queueAtEnd);
  add('verdict', result.passed ? 'PASSED' : `FAILED:\n  - ${result.failures.join('\n  - ')}`);
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
}
