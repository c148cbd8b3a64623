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
import { EXIT, UsageError, intOption, parseOptions, println, type CliDeps, type Command } from '../command.js';

const FILTER_OPTIONS = { batch: { type: 'string' }, code: { type: 'string' }, group: { type: 'string' } } as const;

/** Groups `dlq list` prints unless told otherwise. */
const GROUPS_SHOWN = 20;

export const dlqCommand: Command = {
  summary: 'dead letters: list (grouped by code and message), retry, export as a manifest, purge',
  usage: `zoho-attach dlq list   [--batch NAME] [--code CODE] [--group ID] [--limit N] [--json]
zoho-attach dlq retry  [--batch NAME] [--code CODE] [--group ID] [--all]
zoho-attach dlq export [--batch NAME] [--code CODE] [--group ID] --out FILE
zoho-attach dlq purge  [--batch NAME] [--code CODE] [--group ID] [--all]

list groups dead letters by error code and message, with the parts that differ per row (paths,
URLs, ids, numbers) set aside; each group has an ID for --group. It shows the --limit largest
groups (default ${GROUPS_SHOWN}) and says how many more there are; --json prints every group.
retry and purge act on every dead letter only with --all, or on those --batch/--code/--group select.
A purged row is not forgotten: enqueueing its manifest again queues it again.
export writes a CSV manifest (module, record_id, file, link_url, title, dlq_error_code,
dlq_error_message, plus the batch's pass-through columns), ready to fix and enqueue again.`,
  async run(argv, deps) {
    const [action, ...rest] = argv;
    switch (action) {
      case 'list': {
        const { values } = parseOptions(rest, {
          ...FILTER_OPTIONS,
          json: { type: 'boolean' },
          limit: { type: 'string' },
        });
        const limit = intOption('limit', values.limit, 1, 100_000) ?? GROUPS_SHOWN;
        return withQueue(deps, (q) => list(q, filterOf(values), { json: values.json ?? false, limit }, deps));
      }
      case 'retry':
      case 'purge': {
        const { values } = parseOptions(rest, { ...FILTER_OPTIONS, all: { type: 'boolean' } });
        const filter = filterOf(values);
        if (!values.all && filter.batch === undefined && filter.code === undefined && filter.group === undefined) {
          throw new UsageError(`dlq ${action} needs --batch, --code, --group or --all`);
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

function filterOf(values: {
  batch?: string | undefined;
  code?: string | undefined;
  group?: string | undefined;
}): DeadLetterFilter {
  return { batch: values.batch, code: values.code, group: values.group };
}

async function withQueue(deps: CliDeps, fn: (q: UploadQueue) => Promise<number>): Promise<number> {
  const uploadQueue = await UploadQueue.open(loadConfig(deps.env, deps.cwd));
  try {
    return await fn(uploadQueue);
  } finally {
    await uploadQueue.close();
  }
}

async function list(
  uploadQueue: UploadQueue,
  filter: DeadLetterFilter,
  options: { json: boolean; limit: number },
  deps: CliDeps,
): Promise<number> {
  const groups = await groupDeadLetters(uploadQueue, filter);
  if (options.json) {
    println(deps.stdout, JSON.stringify(groups, null, 2));
    return EXIT.OK;
  }
  if (groups.length === 0) println(deps.stdout, 'no dead letters');
  for (const group of groups.slice(0, options.limit)) {
    println(deps.stdout, `[${group.id}] ${group.code}: ${group.count} row(s) — ${group.signature}`);
    for (const m of group.messages) println(deps.stdout, `    ${m.count} × ${m.message}`);
    if (group.moreMessages > 0) println(deps.stdout, `    … and ${group.moreMessages} more distinct message(s)`);
    const s = group.sample;
    println(deps.stdout, `    e.g. batch ${s.batch} line ${s.line}: ${s.module}/${s.recordId} ${s.kind} ${s.location}`);
  }
  const hidden = groups.length - options.limit;
  if (hidden > 0) {
    const rows = groups.slice(options.limit).reduce((sum, g) => sum + g.count, 0);
    println(
      deps.stdout,
      `… and ${hidden} more group(s) with ${rows} row(s): --limit ${groups.length} shows them all, --json prints every group`,
    );
  }
  return EXIT.OK;
}

async function exportLetters(
  uploadQueue: UploadQueue,
  filter: DeadLetterFilter,
  outPath: string,
  deps: CliDeps,
): Promise<number> {
  const out = createWriteStream(outPath);
  const count = await exportDeadLetters(uploadQueue, filter, out);
  out.end();
  await finished(out);
  println(deps.stdout, `exported ${count} dead letter(s) to ${outPath}`);
  return EXIT.OK;
}
