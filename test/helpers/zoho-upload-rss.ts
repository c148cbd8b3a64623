/**
 * Uploads one file in a process of its own and reports how much its RSS grew, so the test
 * runner's own memory use cannot blur the measurement. Usage:
 *   node --expose-gc --import tsx test/helpers/zoho-upload-rss.ts <fakeUrl> <accessToken> <filePath>
 * Prints one JSON line: { attachmentId, size, rssGrowthBytes }.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { StaticTokenProvider } from '../../src/zoho/static-token-provider.js';
import { ZohoClient } from '../../src/zoho/client.js';
import { zohoTestConfig } from './zoho.js';

const [fakeUrl, accessToken, filePath] = process.argv.slice(2);
if (!fakeUrl || !accessToken || !filePath) throw new Error('usage: <fakeUrl> <accessToken> <filePath>');

const client = new ZohoClient({
  config: zohoTestConfig(fakeUrl, { credentials: false, accessToken, apiDomain: fakeUrl, requestTimeoutMs: 60_000 }),
  tokens: new StaticTokenProvider(accessToken),
});

// Warm up first (module loading, JIT, the connection pool), so the baseline holds all of that.
await client.uploadFile({
  module: 'Leads',
  recordId: '1',
  open: async () => ({ stream: Readable.from([Buffer.alloc(1024)]), size: 1024, fileName: 'warm-up.bin' }),
});
// RSS also counts garbage the GC has not got round to: reading 100 MB in 64 KB chunks piles up
// ~30 MB of dead buffers before V8 collects, whatever the client does. Collecting before each
// sample measures what the upload holds on to, which is what "never buffered whole" is about.
const gc = globalThis.gc;
if (!gc) throw new Error('run with --expose-gc');
gc();
const baseline = process.memoryUsage.rss();
let peak = baseline;
const sampler = setInterval(() => {
  gc();
  peak = Math.max(peak, process.memoryUsage.rss());
}, 25);

const { size } = await stat(filePath);
const result = await client.uploadFile({
  module: 'Leads',
  recordId: '1',
  open: async () => ({ stream: createReadStream(filePath), size, fileName: 'big.bin' }),
});
clearInterval(sampler);
peak = Math.max(peak, process.memoryUsage.rss());
await client.close();
process.stdout.write(
  `${JSON.stringify({ attachmentId: result.attachmentId, size, rssGrowthBytes: peak - baseline })}\n`,
);
