/**
 * `npm run bench:multipart` (issue 13, item 7): the npm package `form-data` against the
 * hand-built streaming body (`src/zoho/multipart.ts`) for one large file, each POSTed with
 * undici `request()` the way `src/zoho/client.ts` does, to a local sink that counts and
 * discards the bytes. Every upload runs in a child process of its own (so one variant's
 * garbage is not another's RSS), the variants alternate order from repetition to repetition,
 * and each figure is quoted as the median and as a ratio to the baseline of the same
 * repetition (the raw file through the same hashing stream, no multipart framing): the
 * machine is shared and noisy. Never part of `npm test`.
 *
 *   npm run bench:multipart                  # 9 repetitions of a 100 MB file (about a minute on 2 cores)
 *   npm run bench:multipart -- --reps 3      # fewer repetitions
 *   npm run bench:multipart -- --mb 20       # another file size (MB = 10⁶ bytes)
 *
 * Prints a table (Markdown, for BENCHMARKS.md) and writes the figures to
 * bench/results/multipart-<time>.json.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import FormData from 'form-data';
import { request } from 'undici';
import { hashSource, type HashingStream } from '../../src/sources/hashing-stream.js';
import { MultipartBody } from '../../src/zoho/multipart.js';
import { machineInfo, REPO_ROOT, writeResults } from '../bench-support.js';

/** The ways of sending the file; `raw` is the baseline every other one is compared with. */
const VARIANTS = ['raw', 'hand-built', 'form-data', 'form-data-direct'] as const;
type Variant = (typeof VARIANTS)[number];

const DESCRIPTIONS: Record<Variant, string> = {
  raw: 'baseline: the file alone as the body (no multipart framing), same hashing stream, through `Readable.from` holding back one chunk',
  'hand-built': '`MultipartBody` (src/zoho/multipart.ts) as the client sends it: `Readable.from(body.chunks())`',
  'form-data': '`form-data` 4 with `knownLength`, piped into a `PassThrough` (as bench/baselines/zoho-post.ts)',
  'form-data-direct': "`form-data` 4 with `knownLength`, the `FormData` object itself as undici's body",
};

/** Bytes per read, as `src/sources/file-source.ts` reads large files. */
const READ_CHUNK_BYTES = 256 * 1024;
/** How often a child samples its RSS while uploading. */
const RSS_SAMPLE_MS = 10;
/** The file part's name in the body: fixed, so every multipart variant has the same framing size. */
const FILE_NAME = 'bench-file.bin';
const MB = 1_000_000;

const { values } = parseArgs({
  options: {
    reps: { type: 'string', default: '9' },
    mb: { type: 'string', default: '100' },
    // Internal: one upload, in a child process.
    child: { type: 'string' },
    file: { type: 'string' },
    url: { type: 'string' },
  },
});

if (values.child) {
  await runChild(values.child as Variant, values.file as string, values.url as string);
} else {
  await runOrchestrator(Number(values.reps), Number(values.mb));
}

// ---------------------------------------------------------------------------------------------
// The child: one upload of one variant, measured from the inside.
// ---------------------------------------------------------------------------------------------

/** What a child reports on stdout (one JSON line). */
interface ChildResult {
  variant: Variant;
  /** The Content-Length sent, known before the first byte. */
  declaredLength: number;
  status: number;
  seconds: number;
  /** RSS just before the body was built, and the highest sample while uploading (bytes). */
  rssBefore: number;
  rssPeak: number;
  /** The process's own high-water mark (`resourceUsage().maxRSS`), start-up included (bytes). */
  maxRss: number;
  /** User + system CPU of the child during the upload. */
  cpuMs: number;
  /** SHA-256 of the file's bytes, taken while they streamed into the body. */
  sha256: string;
}

async function runChild(variant: Variant, file: string, url: string): Promise<void> {
  const size = (await stat(file)).size;
  let rssPeak = 0;
  const sample = () => (rssPeak = Math.max(rssPeak, process.memoryUsage.rss()));
  const rssBefore = process.memoryUsage.rss();
  const sampler = setInterval(sample, RSS_SAMPLE_MS);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();

  // The same stream for every variant: 256 KiB reads through the project's hashing transform.
  const hashing = hashSource(createReadStream(file, { highWaterMark: READ_CHUNK_BYTES }), {
    expectedBytes: size,
    lengthError: (problem) => new Error(`the file changed while being read: ${JSON.stringify(problem)}`),
    sourceError: (error) => error,
  });
  const { body, headers } = buildBody(variant, hashing, size);
  const response = await request(url, { method: 'POST', headers, body });
  await response.body.text();
  // Every body's last byte leaves only after the file's end: the digest is ready (or this throws).
  await finished(hashing);
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  clearInterval(sampler);
  sample();

  const result: ChildResult = {
    variant,
    declaredLength: Number(headers['content-length']),
    status: response.statusCode,
    seconds,
    rssBefore,
    rssPeak,
    maxRss: process.resourceUsage().maxRSS * 1024,
    cpuMs: (cpu.user + cpu.system) / 1000,
    sha256: hashing.digest(),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** The request body and its headers; the Content-Length is always fixed before sending. */
function buildBody(
  variant: Variant,
  file: HashingStream,
  size: number,
): { body: Readable; headers: Record<string, string> } {
  switch (variant) {
    case 'raw':
      return {
        body: Readable.from(holdBackLastChunk(file), { objectMode: false }),
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      };
    case 'hand-built': {
      const multipart = new MultipartBody({ file: { name: 'file', fileName: FILE_NAME, size, stream: file } });
      return {
        body: Readable.from(multipart.chunks(), { objectMode: false }),
        headers: { 'content-type': multipart.contentType, 'content-length': String(multipart.contentLength) },
      };
    }
    case 'form-data':
    case 'form-data-direct': {
      const form = new FormData();
      // A transform is not a stream form-data can measure: without knownLength it has no length at all.
      form.append('file', file, { filename: FILE_NAME, contentType: 'application/octet-stream', knownLength: size });
      const headers = {
        ...(form.getHeaders() as Record<string, string>),
        'content-length': String(form.getLengthSync()),
      };
      if (variant === 'form-data-direct') return { body: form, headers };
      const body = new PassThrough();
      // form-data is an old-style stream: its errors do not travel down a pipe by themselves.
      form.on('error', (error: Error) => body.destroy(error));
      form.pipe(body);
      return { body, headers };
    }
  }
}

/**
 * The file's chunks, each handed on only once the next one (or the end) has arrived. Sent as
 * they come, the last byte can reach the sink, and its answer make undici destroy the body,
 * before the file's end reaches the hashing stream: no digest. The multipart bodies do not
 * need this: their trailer follows the file's end.
 */
async function* holdBackLastChunk(file: Readable): AsyncGenerator<Buffer> {
  let previous: Buffer | undefined;
  for await (const chunk of file) {
    if (previous) yield previous;
    previous = chunk as Buffer;
  }
  if (previous) yield previous;
}

// ---------------------------------------------------------------------------------------------
// The orchestrator: the file, the sink, the children, the figures.
// ---------------------------------------------------------------------------------------------

/** What the sink saw of one request. */
interface Received {
  contentLength: number;
  contentType: string;
  bytes: number;
  head: Buffer;
  tail: Buffer;
}

/** One upload as judged by the orchestrator. */
interface Run extends ChildResult {
  rep: number;
  mbPerSec: number;
  bytesReceived: number;
  /** The sink received exactly the declared Content-Length. */
  lengthExact: boolean;
  /** The body starts with the first boundary and ends with the closing one (multipart variants). */
  framingOk: boolean;
  /** The streamed SHA-256 equals the one computed separately. */
  hashOk: boolean;
}

async function runOrchestrator(reps: number, mb: number): Promise<void> {
  if (!Number.isInteger(reps) || reps < 1) throw new Error(`--reps must be a whole number ≥ 1, not ${values.reps}`);
  if (!(mb > 0)) throw new Error(`--mb must be a number > 0, not ${values.mb}`);
  const size = Math.round(mb * MB);
  const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
  const machine = machineInfo();
  log(
    `multipart bench: ${reps} repetitions of a ${mb} MB file on ${machine.cores} cores, node ${machine.node}; load ${loadAverage()}`,
  );

  const dir = await mkdtemp(path.join(os.tmpdir(), 'multipart-bench-'));
  const sink = await startSink();
  try {
    const file = path.join(dir, FILE_NAME);
    await writeRandomFile(file, size);
    // Read back from disk: independent of the hashing stream the variants use.
    const expectedSha256 = await sha256Of(file);
    log(`file: ${file} (${size} bytes), sha256 ${expectedSha256}`);
    const lengths = await probeLengths(file, size);

    const runs: Run[] = [];
    for (let rep = 0; rep < reps; rep++) {
      // Alternate the order, so drifting load or a warming page cache favours no variant.
      const order = rep % 2 === 0 ? [...VARIANTS] : [...VARIANTS].reverse();
      for (const variant of order) {
        const id = `${rep}-${variant}`;
        const child = await runChildProcess(variant, file, `${sink.url}/${id}`);
        const received = sink.received.get(id);
        if (!received) throw new Error(`${id}: the sink saw no request`);
        const run = judge(child, received, rep, size, expectedSha256);
        runs.push(run);
        log(
          `rep ${rep + 1} ${variant.padEnd(16)} ${run.mbPerSec.toFixed(0).padStart(5)} MB/s  peak RSS ${(run.rssPeak / MB).toFixed(0)} MB ` +
            `(+${((run.rssPeak - run.rssBefore) / MB).toFixed(1)})  CPU ${run.cpuMs.toFixed(0)} ms  ` +
            `length ${run.lengthExact ? 'exact' : 'WRONG'}  framing ${run.framingOk ? 'ok' : 'WRONG'}  sha256 ${run.hashOk ? 'ok' : 'WRONG'}`,
        );
      }
    }

    const summary = summarize(runs);
    console.log(`\n${formatSummary(summary, lengths, size)}\n`);
    // The 10 ms samples against the kernel's own high-water mark: did sampling miss a peak?
    const missed = Math.max(...runs.map((r) => r.maxRss - r.rssPeak)) / MB;
    log(`sampled peak RSS at most ${missed.toFixed(1)} MB below the process's maxRSS; load now ${loadAverage()}`);
    const results = await writeResults('multipart', {
      machine,
      load: os.loadavg(),
      size,
      reps,
      expectedSha256,
      lengths,
      summary,
      runs,
    });
    log(`figures written to ${results}`);
    if (runs.some((r) => !r.lengthExact || !r.framingOk || !r.hashOk || r.status !== 200)) {
      process.exitCode = 1;
      log('some upload was not exact: see the table');
    }
  } finally {
    await sink.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function loadAverage(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

/** A file of random bytes (not sparse: reading it costs what reading a real file costs). */
async function writeRandomFile(file: string, size: number): Promise<void> {
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let left = size; left > 0; left -= 1 << 20) yield randomBytes(Math.min(left, 1 << 20));
  }
  await pipeline(Readable.from(chunks()), createWriteStream(file));
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** An HTTP server on 127.0.0.1 that reads and discards each body, keeping its size and its ends. */
async function startSink(): Promise<{ url: string; received: Map<string, Received>; close(): Promise<void> }> {
  const received = new Map<string, Received>();
  const server = http.createServer((req, res) => {
    const seen: Received = {
      contentLength: Number(req.headers['content-length']),
      contentType: req.headers['content-type'] ?? '',
      bytes: 0,
      head: Buffer.alloc(0),
      tail: Buffer.alloc(0),
    };
    req.on('data', (chunk: Buffer) => {
      seen.bytes += chunk.length;
      if (seen.head.length < 1024) seen.head = Buffer.concat([seen.head, chunk.subarray(0, 1024 - seen.head.length)]);
      seen.tail = Buffer.concat([seen.tail, chunk.subarray(Math.max(0, chunk.length - 256))]).subarray(-256);
    });
    req.on('end', () => {
      received.set((req.url ?? '/').slice(1), seen);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ bytes: seen.bytes }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Runs one upload in a child process of its own and returns what it reported. */
function runChildProcess(variant: Variant, file: string, url: string): Promise<ChildResult> {
  const script = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, ['--import', 'tsx', script, '--child', variant, '--file', file, '--url', url], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{'))
        reject(new Error(`${variant}: the child exited with ${code}\n${stderr}${stdout}`));
      else resolve(JSON.parse(line) as ChildResult);
    });
  });
}

function judge(child: ChildResult, received: Received, rep: number, size: number, expectedSha256: string): Run {
  const boundary = /boundary=(.+)$/.exec(received.contentType)?.[1];
  const framingOk =
    child.variant === 'raw'
      ? received.contentType === 'application/octet-stream'
      : boundary !== undefined &&
        received.head
          .toString('latin1')
          .startsWith(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${FILE_NAME}"`) &&
        received.tail.toString('latin1').endsWith(`\r\n--${boundary}--\r\n`);
  return {
    ...child,
    rep,
    mbPerSec: size / MB / child.seconds,
    bytesReceived: received.bytes,
    lengthExact: received.bytes === child.declaredLength && received.contentLength === child.declaredLength,
    framingOk,
    hashOk: child.sha256 === expectedSha256,
  };
}

/** Whether (and how) each way knows an exact Content-Length before sending, without buffering the file. */
interface LengthProbe {
  way: string;
  /** The length it gave before sending, or undefined when it gave none. */
  length: number | undefined;
  /** What went wrong, if anything. */
  error?: string;
  /** How many bytes the body then actually had (drained into a counter). */
  bodyBytes: number;
  exact: boolean;
}

/**
 * Asks each way for the body's length before anything is read, then drains the body into a
 * byte counter: the length is exact when it was given without error and equals the count.
 */
async function probeLengths(file: string, size: number): Promise<LengthProbe[]> {
  const openHashing = () =>
    hashSource(createReadStream(file, { highWaterMark: READ_CHUNK_BYTES }), {
      expectedBytes: size,
      lengthError: () => new Error('the file changed while being read'),
      sourceError: (error) => error,
    });
  const judgeLength = (
    way: string,
    length: number | undefined,
    error: string | undefined,
    bodyBytes: number,
  ): LengthProbe => ({
    way,
    length,
    ...(error === undefined ? {} : { error }),
    bodyBytes,
    exact: error === undefined && length === bodyBytes,
  });

  async function probeForm(
    way: string,
    stream: Readable,
    knownLength: number | undefined,
    how: 'sync' | 'async',
  ): Promise<LengthProbe> {
    const form = new FormData();
    let error: string | undefined;
    // getLengthSync reports a missing length as an 'error' event (it would throw with no listener).
    form.on('error', (e: Error) => (error ??= e.message));
    const options = {
      filename: FILE_NAME,
      contentType: 'application/octet-stream',
      ...(knownLength === undefined ? {} : { knownLength }),
    };
    form.append('file', stream, options);
    let length: number | undefined;
    if (how === 'sync') {
      length = form.getLengthSync();
    } else {
      length = await new Promise<number | undefined>((resolve) =>
        form.getLength((e, n) => {
          // form-data hands some failures over as strings ('Unknown stream').
          if (e) error ??= typeof e === 'string' ? e : e.message;
          resolve(e ? undefined : n);
        }),
      );
    }
    const body = new PassThrough();
    form.on('error', (e: Error) => body.destroy(e));
    form.pipe(body);
    return judgeLength(way, length, error, await countBytes(body));
  }

  const handBuilt = new MultipartBody({ file: { name: 'file', fileName: FILE_NAME, size, stream: openHashing() } });
  return [
    judgeLength(
      'hand-built: `MultipartBody.contentLength` (the size comes from the caller: `fstat` in file-source.ts)',
      handBuilt.contentLength,
      undefined,
      await countBytes(Readable.from(handBuilt.chunks(), { objectMode: false })),
    ),
    await probeForm('form-data, hashing transform, `knownLength`, `getLengthSync()`', openHashing(), size, 'sync'),
    await probeForm(
      'form-data, hashing transform, no `knownLength`, `getLengthSync()`',
      openHashing(),
      undefined,
      'sync',
    ),
    await probeForm('form-data, hashing transform, no `knownLength`, `getLength()`', openHashing(), undefined, 'async'),
    await probeForm(
      'form-data, plain `fs.ReadStream` (no hash), no `knownLength`, `getLengthSync()`',
      createReadStream(file),
      undefined,
      'sync',
    ),
    await probeForm(
      'form-data, plain `fs.ReadStream` (no hash), no `knownLength`, `getLength()` (it `stat`s the path)',
      createReadStream(file),
      undefined,
      'async',
    ),
  ];
}

async function countBytes(body: Readable): Promise<number> {
  let bytes = 0;
  for await (const chunk of body) bytes += (chunk as Buffer).length;
  return bytes;
}

/** Medians of one variant, and the medians of its per-repetition ratios to the baseline. */
interface VariantSummary {
  variant: Variant;
  runs: number;
  mbPerSec: number;
  seconds: number;
  rssPeakMB: number;
  rssGrowthMB: number;
  cpuMs: number;
  /** Median over repetitions of (this variant ÷ the baseline of the same repetition). */
  ratio: { mbPerSec: number; rssPeak: number; cpuMs: number };
  /** The lowest and highest of the per-repetition MB/s ratios: how noisy the machine was. */
  mbPerSecRatioRange: [number, number];
  /** Head to head: median of (MB/s ÷ the hand-built body's MB/s in the same repetition), and in how many it was faster. */
  versusHandBuilt: { mbPerSec: number; faster: number };
  declaredLength: number;
  allLengthsExact: boolean;
  allFramingOk: boolean;
  allHashesOk: boolean;
}

function summarize(runs: Run[]): VariantSummary[] {
  return VARIANTS.map((variant) => {
    const mine = runs.filter((r) => r.variant === variant);
    const of = (other: Variant, rep: number) => runs.find((r) => r.variant === other && r.rep === rep) as Run;
    const ratios = (value: (r: Run) => number, to: Variant = 'raw') => mine.map((r) => value(r) / value(of(to, r.rep)));
    const versusHandBuilt = ratios((r) => r.mbPerSec, 'hand-built');
    const ratio = (value: (r: Run) => number) => median(ratios(value));
    return {
      variant,
      runs: mine.length,
      mbPerSec: median(mine.map((r) => r.mbPerSec)),
      seconds: median(mine.map((r) => r.seconds)),
      rssPeakMB: median(mine.map((r) => r.rssPeak / MB)),
      rssGrowthMB: median(mine.map((r) => (r.rssPeak - r.rssBefore) / MB)),
      cpuMs: median(mine.map((r) => r.cpuMs)),
      ratio: { mbPerSec: ratio((r) => r.mbPerSec), rssPeak: ratio((r) => r.rssPeak), cpuMs: ratio((r) => r.cpuMs) },
      mbPerSecRatioRange: [Math.min(...ratios((r) => r.mbPerSec)), Math.max(...ratios((r) => r.mbPerSec))],
      versusHandBuilt: {
        mbPerSec: median(versusHandBuilt),
        faster: versusHandBuilt.filter((ratio) => ratio > 1).length,
      },
      declaredLength: mine[0]?.declaredLength ?? 0,
      allLengthsExact: mine.every((r) => r.lengthExact && r.status === 200),
      allFramingOk: mine.every((r) => r.framingOk),
      allHashesOk: mine.every((r) => r.hashOk),
    };
  });
}

function median(numbers: number[]): number {
  const sorted = [...numbers].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** The two tables for BENCHMARKS.md. */
function formatSummary(summary: VariantSummary[], lengths: LengthProbe[], size: number): string {
  const yes = (ok: boolean) => (ok ? 'yes' : '**no**');
  const lines = [
    `Medians of ${summary[0]?.runs ?? 0} runs per variant, ${size / MB} MB file; × = median of the per-repetition ratios to the baseline.`,
    '',
    '| variant | MB/s | × | × range | MB/s ÷ hand-built (faster in) | peak RSS MB | × | RSS growth MB | CPU ms | × | Content-Length | sink got exactly that | sha256 while streaming = sha256 of the file |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const s of summary) {
    lines.push(
      `| ${s.variant} | ${s.mbPerSec.toFixed(0)} | ${s.ratio.mbPerSec.toFixed(2)} | ${s.mbPerSecRatioRange.map((r) => r.toFixed(2)).join('–')} | ` +
        `${s.versusHandBuilt.mbPerSec.toFixed(2)} (${s.versusHandBuilt.faster} of ${s.runs}) | ` +
        `${s.rssPeakMB.toFixed(0)} | ${s.ratio.rssPeak.toFixed(2)} | ` +
        `${s.rssGrowthMB.toFixed(1)} | ${s.cpuMs.toFixed(0)} | ${s.ratio.cpuMs.toFixed(2)} | ${s.declaredLength} | ` +
        `${yes(s.allLengthsExact && s.allFramingOk)} | ${yes(s.allHashesOk)} |`,
    );
  }
  lines.push('', '| way | length before sending | the body then had | exact |', '|---|---|---|---|');
  for (const p of lengths)
    lines.push(
      `| ${p.way} | ${p.length ?? '–'}${p.error ? ` (error: "${p.error}")` : ''} | ${p.bodyBytes} | ${yes(p.exact)} |`,
    );
  lines.push('', ...summary.map((s) => `- ${s.variant}: ${DESCRIPTIONS[s.variant]}`));
  return lines.join('\n');
}
