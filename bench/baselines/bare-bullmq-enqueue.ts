/**
 * Baseline for the huge manifest: the same CSV read line by line (no validation) and added to
 * a bare BullMQ queue with `addBulk`, 1,000 jobs a call, with the same job ids and options as
 * zoho-attach: the queue's own ceiling for enqueueing. No ledger, no batch rows.
 * Spec: { redisUrl, queueName, prefix, manifest, jobOptions }.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Queue, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { measure, readSpec } from './spec.js';

const spec = readSpec<{
  redisUrl: string;
  queueName: string;
  prefix: string;
  manifest: string;
  jobOptions: JobsOptions;
}>();
const CHUNK = 1_000;

const connection = new Redis(spec.redisUrl, { maxRetriesPerRequest: 3, enableOfflineQueue: false, lazyConnect: true });
await connection.connect();
const queue = new Queue(spec.queueName, { connection, prefix: spec.prefix });

await measure(async () => {
  let header: string[] | undefined;
  let rows = 0;
  let chunk: Array<{ name: string; data: Record<string, unknown>; opts: JobsOptions }> = [];
  for await (const line of createInterface({ input: createReadStream(spec.manifest), crlfDelay: Infinity })) {
    if (line === '') continue;
    const fields = line.split(',');
    if (!header) {
      header = fields;
      continue;
    }
    const row = Object.fromEntries(header.map((name, i) => [name, fields[i] ?? '']));
    rows++;
    // A link row (link_url) or a file row, as the manifest has it.
    const target = row.link_url ? { kind: 'link', url: row.link_url } : { kind: 'file', path: row.file };
    const location = row.link_url || row.file;
    const data = {
      batch: 'bare',
      line: rows + 1,
      module: row.module,
      recordId: row.record_id,
      target,
    };
    const jobId = `u-${createHash('sha256')
      .update(JSON.stringify([data.module, data.recordId, target.kind, location, '']))
      .digest('hex')
      .slice(0, 32)}`;
    chunk.push({ name: 'upload', data, opts: { ...spec.jobOptions, jobId } });
    if (chunk.length >= CHUNK) {
      await queue.addBulk(chunk);
      chunk = [];
    }
  }
  if (chunk.length > 0) await queue.addBulk(chunk);
  return { uploads: rows, statuses: {}, bytes: 0 };
});
await queue.close();
connection.disconnect();
