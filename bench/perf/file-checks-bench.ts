/**
 * `npm run bench:file-checks` (issue 14, item 3): the CPU a worker spends opening, reading and
 * closing one local file with every check that keeps it inside its roots
 * (`src/sources/file-source.ts`), beside a bare `fs.promises.readFile` of the same file (what the
 * bare BullMQ worker of `npm run bench` does), and optionally beside another build's file
 * checks (`--baseline`), and the same checks run inside an `AsyncLocalStorage` (how a worker
 * attributed its requests to batches before `ZohoClient.attributedTo`: on Node 20 its hooks run for
 * every promise and async resource). CPU is `process.cpuUsage()`: the main thread, libuv's threads and the
 * kernel's time on their behalf. The variants alternate (A B C C B A …) on the same files, 10 in
 * flight as a worker's uploads are; each figure is the median of the repetitions and is quoted
 * as a ratio to the bare read of the same repetition, because the machine is shared and noisy.
 * Never part of `npm test`.
 *
 *   npm run bench:file-checks                                          # 20,000 opens of 1 KiB files, 5 repetitions
 *   npm run bench:file-checks -- --baseline /other/checkout/dist       # also another build's checks
 *   npm run bench:file-checks -- --files 5000 --reps 9
 *   npm run bench:file-checks -- --files 1000 --reps 3 --pace-ms 100   # each lane waits 100 ms after a file, as for Zoho's answer
 *
 * Unpaced, the thread pool is always busy and its trips come cheap; paced, every trip wakes a
 * thread and the event loop, as in a worker waiting on Zoho (`npm run bench`, scenario 1).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { SourceLimits, SourceRef, OpenedSource } from '../../src/sources/index.js';

const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '20000' },
    reps: { type: 'string', default: '5' },
    'pace-ms': { type: 'string', default: '0' },
    baseline: { type: 'string' },
  },
});
const FILES = Number(values.files);
const REPS = Number(values.reps);
const PACE_MS = Number(values['pace-ms']);
const IN_FLIGHT = 10;
/** Distinct files, opened over and over: enough that the page cache, not one inode, is exercised. */
const DISTINCT_FILES = 1_000;

type OpenSource = (ref: SourceRef, limits: SourceLimits) => Promise<OpenedSource>;

async function loadOpenSource(distDir: string): Promise<OpenSource> {
  const module = (await import(pathToFileURL(path.join(distDir, 'sources', 'index.js')).href)) as {
    openSource: OpenSource;
  };
  return module.openSource;
}

/** Runs `open` on FILES paths, IN_FLIGHT at a time; returns CPU ms per file. */
async function cpuPerFile(paths: string[], open: (filePath: string) => Promise<void>): Promise<number> {
  let next = 0;
  const before = process.cpuUsage();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < FILES) {
        await open(paths[next++ % paths.length] as string);
        if (PACE_MS > 0) await sleep(PACE_MS);
      }
    }),
  );
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / FILES;
}

async function drain(source: OpenedSource): Promise<void> {
  for await (const chunk of source.stream) void chunk;
  source.sha256();
  await source.close();
}

const root = await mkdtemp(path.join(os.tmpdir(), 'file-checks-bench-'));
try {
  const content = Buffer.alloc(1024, 'x');
  const paths = Array.from({ length: DISTINCT_FILES }, (_, i) => path.join(root, `file-${i}.txt`));
  for (const filePath of paths) await writeFile(filePath, content);
  const limits: SourceLimits = { fileRoots: [root], allowPrivateUrls: false };

  const variants: Array<{ name: string; open: (filePath: string) => Promise<void>; after?: () => void }> = [
    { name: 'bare readFile', open: async (filePath) => void (await readFile(filePath)) },
  ];
  const thisBuild = await loadOpenSource(path.resolve('dist'));
  variants.push({ name: 'file checks (dist/)', open: (p) => thisBuild({ kind: 'file', path: p }, limits).then(drain) });
  const storage = new AsyncLocalStorage<string>();
  variants.push({
    name: 'file checks (dist/), inside AsyncLocalStorage.run',
    open: (p) => storage.run('batch', () => thisBuild({ kind: 'file', path: p }, limits).then(drain)),
    // The hooks stay on while any storage is enabled: off again before the other variants run.
    after: () => storage.disable(),
  });
  if (values.baseline) {
    const other = await loadOpenSource(path.resolve(values.baseline));
    variants.push({
      name: `file checks (${values.baseline})`,
      open: (p) => other({ kind: 'file', path: p }, limits).then(drain),
    });
  }

  // One warm-up pass each, then the repetitions, the order reversed every other time.
  const measure = async (variant: (typeof variants)[number]) => {
    const cpu = await cpuPerFile(paths, variant.open);
    variant.after?.();
    return cpu;
  };
  for (const variant of variants) await measure(variant);
  const figures = new Map(variants.map((v) => [v.name, [] as number[]]));
  for (let rep = 0; rep < REPS; rep++) {
    const order = rep % 2 === 0 ? variants : [...variants].reverse();
    for (const variant of order) figures.get(variant.name)?.push(await measure(variant));
  }

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const bare = median(figures.get('bare readFile') as number[]);
  console.log(
    `${FILES} opens of 1 KiB files, ${IN_FLIGHT} in flight${PACE_MS > 0 ? `, ${PACE_MS} ms apart in each` : ''}, median of ${REPS}; load ${os.loadavg()[0]?.toFixed(2)}`,
  );
  console.log('| variant | CPU µs per file | × bare readFile |');
  console.log('|---|---|---|');
  for (const [name, xs] of figures) {
    const m = median(xs);
    console.log(`| ${name} | ${(m * 1000).toFixed(0)} | ×${(m / bare).toFixed(2)} |`);
  }
} finally {
  await rm(root, { recursive: true, force: true });
}
