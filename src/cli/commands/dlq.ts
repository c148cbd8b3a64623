/** `zoho-attach dlq list|retry|export|purge [--batch NAME] [--code CODE] …` */
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { loadConfig } from '../../config/config.js';
import {
  exportDeadLetters,
  groupDeadLetters,
  purgeDeadLetters,
  retryDeadLetters,
  type DeadLetterFilter,
} from '../../queue/dead-letters.js';
import { UploadQueue } from '../../queue/upload-queue.js';
import { EXIT, UsageError, parseOptions, println, type CliDeps, type Command } from '../command.js';

const FILTER_OPTIONS = { batch: { type: 'string' }, code: { type: 'string' } } as const;

export const dlqCommand: Command = {
  summary: 'dead letters: list (grouped by error code), retry, export as a manifest, purge',
  usage: `zoho-attach dlq list   [--batch NAME] [--code CODE] [--json]
zoho-attach dlq retry  [--batch NAME] [--code CODE] [--all]
zoho-attach dlq export [--batch NAME] [--code CODE] --out FILE
zoho-attach dlq purge  [--batch NAME] [--code CODE] [--all]

retry and purge act on every dead letter only with --all, or on those --batch/--code select.
export writes a CSV manifest (module, record_id, file, link_url, title, dlq_error_code,
dlq_error_message, plus the batch's pass-through columns), ready to fix and enqueue again.`,
  async run(argv, deps) {
    const [action, ...rest] = argv;
    switch (action) {
      case 'list': {
        const { values } = parseOptions(rest, { ...FILTER_OPTIONS, json: { type: 'boolean' } });
        return withQueue(deps, (q) => list(q, filterOf(values), values.json ?? false, deps));
      }
      case 'retry':
      case 'purge': {
        const { values } = parseOptions(rest, { ...FILTER_OPTIONS, all: { type: 'boolean' } });
        const filter = filterOf(values);
        if (!values.all && filter.batch === undefined && filter.code === undefined) {
          throw new UsageError(`dlq ${action} needs --batch, --code or --all`);
        }
        return withQueue(deps, async (q) => {
          const n = action === 'retry' ? await retryDeadLetters(q, filter) : await purgeDeadLetters(q, filter);
          println(deps.stdout, `${action === 'retry' ? 're-enqueued' : 'purged'} ${n} dead letter(s)`);
          return EXIT.OK;
        });
      }
      case 'export': {
        const { values } = parseOptions(rest, { ...FILTER_OPTIONS, out: { type: 'string' } });
        if (!values.out) throw new UsageError('dlq export needs --out FILE');
        const outPath = path.resolve(deps.cwd, values.out);
        return withQueue(deps, (q) => exportLetters(q, filterOf(values), outPath, deps));
      }
      default:
        throw new UsageError(`dlq needs one of list, retry, export, purge${action ? ` (not "${action}")` : ''}`);
    }
  },
};

function filterOf(values: { batch?: string | undefined; code?: string | undefined }): DeadLetterFilter {
  return { batch: values.batch, code: values.code };
}

async function withQueue(deps: CliDeps, fn: (q: UploadQueue) => Promise<number>): Promise<number> {
  const uploadQueue = await UploadQueue.open(loadConfig(deps.env, deps.cwd));
  try {
    return await fn(uploadQueue);
  } finally {
    await uploadQueue.close();
  }
}

async function list(uploadQueue: UploadQueue, filter: DeadLetterFilter, json: boolean, deps: CliDeps): Promise<number> {
  const groups = await groupDeadLetters(uploadQueue, filter);
  if (json) {
    println(deps.stdout, JSON.stringify(groups, null, 2));
    return EXIT.OK;
  }
  if (groups.length === 0) println(deps.stdout, 'no dead letters');
  for (const group of groups) {
    println(deps.stdout, `${group.code}: ${group.count} row(s)`);
    for (const m of group.messages) println(deps.stdout, `    ${m.count} × ${m.message}`);
    const s = group.sample;
    println(deps.stdout, `    e.g. batch ${s.batch} line ${s.line}: ${s.module}/${s.recordId} ${s.kind} ${s.location}`);
  }
  return EXIT.OK;
}

async function exportLetters(uploadQueue: UploadQueue, filter: DeadLetterFilter, outPath: string, deps: CliDeps): Promise<number> {
  const out = createWriteStream(outPath);
  const count = await exportDeadLetters(uploadQueue, filter, out);
  out.end();
  await finished(out);
  println(deps.stdout, `exported ${count} dead letter(s) to ${outPath}`);
  return EXIT.OK;
}
