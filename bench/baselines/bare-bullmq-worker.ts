/**
 * Baseline: a bare BullMQ worker doing the same POST as the other baselines: the queue's own
 * ceiling, with the same global concurrency as zoho-attach but no ledger, no de-duplication,
 * no 429 handling, no logging. Prints `READY` once it takes jobs, its result line on SIGTERM.
 * Spec: { zoho, redisUrl, queueName, prefix, concurrency, globalConcurrency }.
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { countStatus, type BaselineUpload, type BaselineZoho, readSpec } from './spec.js';
import { postAttachment } from './zoho-post.js';

const spec = readSpec<{
  zoho: BaselineZoho;
  redisUrl: string;
  queueName: string;
  prefix: string;
  concurrency: number;
  globalConcurrency: number;
}>();

const statuses: Record<string, number> = {};
let bytes = 0;
const queueConnection = new Redis(spec.redisUrl, { maxRetriesPerRequest: null });
const queue = new Queue(spec.queueName, { connection: queueConnection, prefix: spec.prefix });
await queue.setGlobalConcurrency(spec.globalConcurrency);

const worker = new Worker<BaselineUpload>(
  spec.queueName,
  async (job) => {
    let status: number;
    try {
      status = await postAttachment(spec.zoho, job.data);
    } catch (error) {
      countStatus(statuses, 'error');
      throw error;
    }
    countStatus(statuses, status);
    if (status !== 200) throw new Error(`HTTP ${status}`);
    bytes += job.data.size;
  },
  {
    connection: new Redis(spec.redisUrl, { maxRetriesPerRequest: null }),
    prefix: spec.prefix,
    concurrency: spec.concurrency,
  },
);
await worker.waitUntilReady();
process.stdout.write('READY\n');

process.once('SIGTERM', () => {
  void (async () => {
    await worker.close();
    await queue.close();
    queueConnection.disconnect();
    const cpu = process.cpuUsage();
    process.stdout.write(
      `RESULT ${JSON.stringify({ statuses, bytes, cpuMs: (cpu.user + cpu.system) / 1000, peakRssKiB: process.resourceUsage().maxRSS })}\n`,
    );
    process.exit(0);
  })();
});
