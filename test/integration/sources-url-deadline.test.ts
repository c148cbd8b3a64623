/**
 * A URL that trickles (a byte now and then, never idle long enough for the idle timeout) is cut
 * off by the total download deadline, with or without a Content-Length.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { openSource, type SourceLimits } from '../../src/sources/index.js';
import { defaultUrlDeadlineMs } from '../../src/sources/types.js';
import { startHttpServer, type TestServer } from './sources-helpers.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Sends one byte every 50 ms, for ever (until the client leaves). */
async function trickle(withLength: boolean): Promise<string> {
  server = await startHttpServer((_req, res) => {
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      ...(withLength ? { 'content-length': '100000' } : {}),
    });
    const timer = setInterval(() => res.write('x'), 50);
    res.on('close', () => clearInterval(timer));
  });
  return `${server.origin}/slow.bin`;
}

async function readAll(limits: SourceLimits, url: string): Promise<unknown> {
  const source = await openSource({ kind: 'url', url }, limits);
  try {
    for await (const _chunk of source.stream) {
      // read to the end (or the error)
    }
    return undefined;
  } catch (error) {
    return error;
  } finally {
    await source.close().catch(() => undefined);
  }
}

describe('URL download deadline', () => {
  it.each([true, false])('cuts a trickling download off at the deadline (Content-Length %s)', async (withLength) => {
    const url = await trickle(withLength);
    const limits: SourceLimits = { fileRoots: [], allowPrivateUrls: true, timeoutMs: 2_000, deadlineMs: 400 };
    const error = withLength
      ? await readAll(limits, url)
      : await openSource({ kind: 'url', url }, limits).then(
          () => undefined,
          (e: unknown) => e,
        );
    expect(error).toMatchObject({
      code: 'SOURCE_URL_TIMEOUT',
      message: expect.stringContaining('did not finish within 400 ms (ZOHO_ATTACH_URL_DEADLINE_MS)'),
    });
  });

  it('defaults to the size cap at 128 KiB/s plus a minute, and reads ZOHO_ATTACH_URL_DEADLINE_MS', () => {
    expect(defaultUrlDeadlineMs(100 * 1024 * 1024)).toBe(860_000);
    expect(loadConfig({ ZOHO_ATTACH_URL_DEADLINE_MS: '5000' }).sources.urlDeadlineMs).toBe(5_000);
    expect(loadConfig({}).sources.urlDeadlineMs).toBeUndefined();
    expect(() => loadConfig({ ZOHO_ATTACH_URL_DEADLINE_MS: 'soon' })).toThrow(/ZOHO_ATTACH_URL_DEADLINE_MS: "soon"/);
  });
});
