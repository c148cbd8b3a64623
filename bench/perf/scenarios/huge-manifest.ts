/**
 * Scenario 4, huge manifest (issue 14's targets): `zoho-attach enqueue` of a million link rows at
 * ≥ 50,000 rows/s (floor 20,000), streaming (peak RSS ≤ 150 MB), with ≤ 200 bytes of Redis per
 * waiting row (floor 300), beside a bare BullMQ `addBulk` of the same rows. Also measured on the
 * private Redis: bytes per finished ledger row (after a real upload run of a smaller batch, once
 * BullMQ's events stream is cleaned away). `npm run bench:backlog` measures the same with a
 * before/after build in one run.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../../src/config/config.js';
import { uploadJobOptions } from '../../../src/queue/upload-queue.js';
import { keyNames } from '../../../src/shared/key-names.js';
import type { BaselineResult } from '../../baselines/spec.js';
import { BACKLOG_GOALS, sampleLayout } from '../backlog.js';
import { SMALL_FILE_BYTES } from '../sizes.js';
import { runScript, startCli } from '../processes.js';
import { cpuMark, cpuSince, PeakMemory } from '../proc.js';
import { runZohoAttach } from '../variants.js';
import {
  makeScratch,
  makeSmallFiles,
  recordIdFor,
  startBenchFake,
  zohoAttachEnv,
  type ScenarioResult,
  type VariantFigures,
} from '../world.js';
import { fixed, type ScenarioContext } from './context.js';

// Issue 14's goals, as bench:backlog and bench:scale judge them.
const {
  enqueueRowsPerSecond: RATE,
  bytesPerWaitingRow: WAITING_ROW_BYTES,
  enqueuePeakRssMB: PEAK_RSS_MB,
} = BACKLOG_GOALS;

export async function hugeManifest(context: ScenarioContext): Promise<ScenarioResult> {
  const { rows, finishedRows } = context.sizes.hugeManifest;
  const { redis } = context;
  const scratch = await makeScratch('huge-manifest');
  const fake = await startBenchFake({ latencyMs: 0 });
  try {
    const manifest = path.join(scratch.dir, 'huge.csv');
    await writeHugeManifest(manifest, rows);
    context.log(`  wrote a ${rows}-row manifest`);

    // zoho-attach enqueue, as an operator runs it.
    await redis.flush();
    const queueName = `bench-huge-${randomBytes(3).toString('hex')}`;
    const env = zohoAttachEnv({ redis, fake, queueName, fileRoot: scratch.dir, concurrency: 10 });
    const memoryBefore = await redis.usedMemory();
    const redisCpu = await cpuMark([redis.pid]);
    const started = performance.now();
    const enqueue = startCli('zoho-attach-enqueue', ['enqueue', manifest, '--batch', 'huge'], {
      env,
      cwd: scratch.dir,
      logDir: scratch.logDir,
    });
    const memory = new PeakMemory([enqueue.pid], 50);
    const exit = await enqueue.exited;
    const seconds = (performance.now() - started) / 1000;
    const redisCpuMs = await cpuSince(redisCpu);
    const peakKiB = (await memory.stop()).get(enqueue.pid) ?? NaN;
    const enqueueCpuMs = memory.lastCpuMs(enqueue.pid) ?? NaN;
    if (exit.code !== 0)
      throw new Error(`zoho-attach enqueue failed (${exit.code ?? exit.signal}); see ${enqueue.logFile}`);
    const memoryAfter = await redis.usedMemory();
    // Where a waiting row's bytes go, by kind of key (the same sampling as bench:backlog's).
    const perKey = await sampleLayout(redis.client, queueName, 'huge', rows);
    const za: VariantFigures = {
      variant: 'zoho-attach enqueue',
      uploads: rows,
      seconds,
      rate: rows / seconds,
      peakRssMB: (peakKiB * 1024) / 1e6,
      cpuMsPerUpload: enqueueCpuMs / rows,
      redisCpuMsPerUpload: redisCpuMs / rows,
      extra: {
        redisBytesPerPendingJob: Math.round((memoryAfter - memoryBefore) / rows),
        memoryUsageOfSampleKeys: perKey,
        includesProcessStart: true,
      },
    };
    context.log(`  zoho-attach enqueue: ${fixed(za.rate, 0)} rows/s`);

    // The queue's own ceiling: the same jobs through a bare addBulk.
    await redis.flush();
    const bareBefore = await redis.usedMemory();
    const specFile = path.join(scratch.dir, 'bare-enqueue.json');
    const bareKeys = keyNames(`bench-bare-huge-${randomBytes(3).toString('hex')}`);
    await writeFile(
      specFile,
      JSON.stringify({
        redisUrl: redis.url,
        queueName: 'uploads',
        prefix: bareKeys.prefix,
        manifest,
        jobOptions: uploadJobOptions(loadConfig({}, scratch.dir)),
      }),
    );
    const bareRedisCpu = await cpuMark([redis.pid]);
    const bareResult = await runScript<BaselineResult>('bare-bullmq-enqueue', 'baselines/bare-bullmq-enqueue.ts', {
      specFile,
      logDir: scratch.logDir,
      timeoutMs: 20 * 60_000,
    });
    const bareRedisCpuMs = await cpuSince(bareRedisCpu);
    const bareAfter = await redis.usedMemory();
    const bareSeconds = (bareResult.endedAt - bareResult.startedAt) / 1000;
    const bare: VariantFigures = {
      variant: 'bare BullMQ addBulk',
      uploads: bareResult.uploads,
      seconds: bareSeconds,
      rate: bareResult.uploads / bareSeconds,
      peakRssMB: (bareResult.peakRssKiB * 1024) / 1e6,
      cpuMsPerUpload: bareResult.cpuMs / bareResult.uploads,
      redisCpuMsPerUpload: bareRedisCpuMs / bareResult.uploads,
      extra: { redisBytesPerPendingJob: Math.round((bareAfter - bareBefore) / bareResult.uploads) },
    };
    context.log(`  bare addBulk: ${fixed(bare.rate, 0)} jobs/s`);
    await redis.flush();

    // Finished rows: a real (smaller) upload run, measured the same way.
    const uploads = await makeSmallFiles(scratch.dir, finishedRows, SMALL_FILE_BYTES);
    const finished = await runZohoAttach({
      variant: 'zoho-attach finished rows',
      redis,
      fake,
      scratch,
      uploads,
      workers: 1,
      concurrency: 10,
      timeoutMs: 10 * 60_000,
      log: context.log,
    });
    await redis.flush();
    const finishedMemory = finished.extra?.redisMemory as { bytesPerPendingRow: number; bytesPerFinishedRow: number };

    const pendingBytes = za.extra?.redisBytesPerPendingJob as number;
    return {
      id: '4',
      title: 'Huge manifest',
      parameters: { rows, finishedRows },
      variants: [za, bare, finished],
      goals: [
        {
          goal: `enqueue ≥ ${RATE.target.toLocaleString('en')} link rows/s (floor ${RATE.floor.toLocaleString('en')})`,
          measured: `${fixed(za.rate, 0)} rows/s (bare addBulk ${fixed(bare.rate, 0)}/s)`,
          met: za.rate >= RATE.target,
        },
        {
          goal: `≤ ${WAITING_ROW_BYTES.target} B of Redis per waiting row (floor ${WAITING_ROW_BYTES.floor})`,
          measured: `${pendingBytes} B (bare addBulk ${String(bare.extra?.redisBytesPerPendingJob)} B)`,
          met: pendingBytes <= WAITING_ROW_BYTES.target,
        },
        {
          goal: `enqueue peak RSS ≤ ${PEAK_RSS_MB.target} MB`,
          measured: `${fixed(za.peakRssMB, 0)} MB`,
          met: (za.peakRssMB ?? Infinity) <= PEAK_RSS_MB.target,
        },
      ],
      extra: {
        redisBytesPerPendingJob: pendingBytes,
        bareBullmqBytesPerPendingJob: bare.extra?.redisBytesPerPendingJob,
        redisBytesPerFinishedLedgerRow: finishedMemory.bytesPerFinishedRow,
        memoryUsageOfSampleKeys: perKey,
      },
    };
  } finally {
    await fake.close();
    await scratch.remove();
  }
}

function linkFor(i: number): string {
  return `https://files.example.com/docs/doc-${String(i).padStart(7, '0')}.pdf`;
}

function titleFor(i: number): string {
  return `Document ${i}`;
}

/** `module,record_id,link_url,title,legacy_id`, one link row per line, written as a stream. */
async function writeHugeManifest(file: string, rows: number): Promise<void> {
  const out = createWriteStream(file);
  out.write('module,record_id,link_url,title,legacy_id\n');
  let buffer = '';
  for (let i = 0; i < rows; i++) {
    buffer += `Accounts,${recordIdFor(i)},${linkFor(i)},${titleFor(i)},L-${i}\n`;
    if (buffer.length > 1 << 20) {
      if (!out.write(buffer)) await once(out, 'drain');
      buffer = '';
    }
  }
  out.end(buffer);
  await once(out, 'finish');
}
