/**
 * Scenario 3, large files: 100 MB files, from disk and from URLs (a local file server), 10 at
 * a time through one worker process. Memory must stay flat (peak RSS ≤ 250 MB) because
 * files are streamed, never buffered; MB/s is compared with a raw undici stream copy.
 */
import path from 'node:path';
import { startScript } from '../processes.js';
import { runBaselineScript, runZohoAttach } from '../variants.js';
import { baselineZoho, makeScratch, makeSparseFiles, startBenchFake, type ScenarioResult } from '../world.js';
import { fixed, type ScenarioContext } from './context.js';

const CONCURRENCY = 10;
const PEAK_RSS_GOAL_MB = 250;

export async function largeFiles(context: ScenarioContext): Promise<ScenarioResult> {
  const { files, bytes } = context.sizes.largeFiles;
  const scratch = await makeScratch('large-files');
  const fake = await startBenchFake({ latencyMs: 0 });
  let fileServer: ReturnType<typeof startScript> | undefined;
  try {
    const onDisk = await makeSparseFiles(scratch.dir, files, bytes);
    fileServer = startScript('file-server', 'perf/file-server.ts', {
      logDir: scratch.logDir,
      env: { FILE_SERVER_ROOT: path.join(scratch.dir, 'large') },
    });
    const port = Number((await fileServer.waitForLine(/^LISTENING \d+/)).split(' ')[1]);
    const byUrl = onDisk.map((u) => ({ ...u, path: undefined, url: `http://127.0.0.1:${port}/${u.fileName}` }));
    const zoho = baselineZoho(fake);
    const timeoutMs = 10 * 60_000;
    const common = {
      redis: context.redis,
      fake,
      scratch,
      workers: 1,
      concurrency: CONCURRENCY,
      timeoutMs,
      log: context.log,
    };
    const zaDisk = await runZohoAttach({ ...common, uploads: onDisk, variant: 'zoho-attach (disk)' });
    const rawDisk = await runBaselineScript({
      variant: 'raw stream (disk)',
      script: 'baselines/raw-stream-copy.ts',
      spec: { zoho, uploads: onDisk, concurrency: CONCURRENCY },
      fake,
      scratch,
      timeoutMs,
    });
    const zaUrl = await runZohoAttach({
      ...common,
      uploads: byUrl,
      variant: 'zoho-attach (URL)',
      env: { ZOHO_ATTACH_ALLOW_PRIVATE_URLS: 'true' },
    });
    const rawUrl = await runBaselineScript({
      variant: 'raw stream (URL)',
      script: 'baselines/raw-stream-copy.ts',
      spec: { zoho, uploads: byUrl, concurrency: CONCURRENCY },
      fake,
      scratch,
      timeoutMs,
    });
    const peak = (figures: { peakRssMB?: number }) => figures.peakRssMB ?? Infinity;
    return {
      id: '3',
      title: 'Large files',
      parameters: { files, fileBytes: bytes, concurrency: CONCURRENCY, workers: 1, latencyMs: 0, sparseFiles: true },
      variants: [zaDisk, rawDisk, zaUrl, rawUrl],
      goals: [
        {
          goal: `worker peak RSS ≤ ${PEAK_RSS_GOAL_MB} MB (disk)`,
          measured: `${fixed(peak(zaDisk), 0)} MB; ${fixed(zaDisk.mbPerSec, 0)} MB/s vs raw ${fixed(rawDisk.mbPerSec, 0)} MB/s`,
          met: peak(zaDisk) <= PEAK_RSS_GOAL_MB,
        },
        {
          goal: `worker peak RSS ≤ ${PEAK_RSS_GOAL_MB} MB (URL)`,
          measured: `${fixed(peak(zaUrl), 0)} MB; ${fixed(zaUrl.mbPerSec, 0)} MB/s vs raw ${fixed(rawUrl.mbPerSec, 0)} MB/s`,
          met: peak(zaUrl) <= PEAK_RSS_GOAL_MB,
        },
      ],
    };
  } finally {
    await fileServer?.stop();
    await fake.close();
    await scratch.remove();
  }
}
