/**
 * The SSRF guard end to end (allowPrivateUrls: false). Every refusal must happen before a
 * connection is attempted: the loopback tripwire fails the test, without sending a packet,
 * if the code ever tries to reach anything but loopback.
 */
import fs from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ResolvedAddress } from '../../src/sources/index.js';
import { openSource, SourceError, type LookupFunction, type SourceLimits } from '../../src/sources/index.js';
import { installLoopbackTripwire, startHttpServer, type TestServer } from './sources-helpers.js';

const tripwire = installLoopbackTripwire();
const servers: TestServer[] = [];
const guarded: SourceLimits = { fileRoots: [], allowPrivateUrls: false, timeoutMs: 2_000 };

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
  expect(tripwire.violations.splice(0)).toEqual([]);
});

afterAll(() => tripwire.uninstall());

async function serve(handler: Parameters<typeof startHttpServer>[0]): Promise<TestServer> {
  const server = await startHttpServer(handler);
  servers.push(server);
  return server;
}

async function blocked(url: string, limits: SourceLimits = guarded): Promise<SourceError> {
  const error = await openSource({ kind: 'url', url }, limits).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SourceError);
  const sourceError = error as SourceError;
  expect({
    code: sourceError.code,
    classification: sourceError.classification,
    message: sourceError.message,
  }).toMatchObject({
    code: 'SOURCE_URL_BLOCKED',
    classification: 'permanent',
  });
  return sourceError;
}

/** A resolver that answers from a table and records what it was asked. */
function tableLookup(table: Record<string, string[]>): LookupFunction & { asked: string[] } {
  const asked: string[] = [];
  const lookup = async (hostname: string): Promise<ResolvedAddress[]> => {
    asked.push(hostname);
    const addresses = table[hostname];
    if (addresses === undefined) throw Object.assign(new Error(`no such host ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(lookup, { asked });
}

describe('the SSRF guard refuses', () => {
  it.each([
    ['http://127.0.0.1/', '127.0.0.1 (loopback)'],
    ['http://127.1.2.3:8080/x', '127.1.2.3 (loopback)'],
    ['http://2130706433/', '127.0.0.1 (loopback)'],
    ['http://[::1]/', '::1 (loopback)'],
    ['http://[::ffff:127.0.0.1]/', '::ffff:7f00:1 (loopback, IPv4-mapped 127.0.0.1)'],
    ['http://[::ffff:10.0.0.1]/', '(private, IPv4-mapped 10.0.0.1)'],
    ['http://[64:ff9b::a9fe:a9fe]/', '(link-local, cloud metadata, NAT64 for 169.254.169.254)'],
    ['http://10.0.0.1/', '10.0.0.1 (private)'],
    ['http://192.168.1.1/', '192.168.1.1 (private)'],
    ['http://172.16.0.1/', '172.16.0.1 (private)'],
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254 (link-local, cloud metadata)'],
    ['http://100.64.0.1/', '100.64.0.1 (carrier-grade NAT)'],
    ['http://[fe80::1]/', 'fe80::1 (link-local)'],
    ['http://[fd12:3456::1]/', 'fd12:3456::1 (unique-local)'],
    ['http://0.0.0.0/', '0.0.0.0 (unspecified)'],
    ['http://[::]/', ':: (unspecified)'],
    ['http://224.0.0.1/', '224.0.0.1 (multicast)'],
    ['http://255.255.255.255/', '255.255.255.255 (broadcast)'],
  ])('%s', async (url, described) => {
    const error = await blocked(url);
    expect(error.message).toContain(`resolves to ${described.startsWith('(') ? '' : described}`);
    expect(error.message).toContain(described);
  });

  it.skipIf(!/^\s*127\.0\.0\.1\s.*\blocalhost\b/m.test(fs.readFileSync('/etc/hosts', 'utf8')))(
    'localhost, through the system resolver (answered from /etc/hosts)',
    async () => {
      const error = await blocked('http://localhost/');
      expect(error.message).toMatch(/resolves to (127\.0\.0\.1|::1) \(loopback\)/);
    },
  );

  it('a host name that resolves to a private address', async () => {
    const lookup = tableLookup({ 'files.example.test': ['10.0.0.5'] });
    const error = await blocked('http://files.example.test/report.pdf', { ...guarded, lookup });
    expect(error.message).toContain('resolves to 10.0.0.5 (private)');
    expect(lookup.asked).toEqual(['files.example.test']);
  });

  it('a host name with one private address among public ones', async () => {
    const lookup = tableLookup({ 'mixed.example.test': ['93.184.216.34', '192.168.0.10'] });
    const error = await blocked('https://mixed.example.test/x', { ...guarded, lookup });
    expect(error.message).toContain('192.168.0.10 (private)');
  });

  it('a loopback server that is listening, without ever connecting to it', async () => {
    const server = await serve((_req, res) => res.end('should not be fetched'));
    await blocked(`${server.origin}/x`);
    expect(server.requests).toHaveLength(0);
  });

  it('without repeating a signed query string in the message', async () => {
    const error = await blocked('http://10.0.0.1/file.pdf?X-Amz-Signature=topsecret');
    expect(error.message).not.toContain('topsecret');
    expect(error.message).toContain('http://10.0.0.1/file.pdf?…');
  });
});

describe('the SSRF guard on redirects', () => {
  // Exactly 127.0.0.1 is allowed, so the first hop reaches the test server and every
  // redirect target is judged by the ordinary rules.
  const loopbackOnly: SourceLimits = { ...guarded, allowedAddresses: ['127.0.0.1'] };

  async function redirectingServer(location: (server: TestServer) => string): Promise<TestServer> {
    const holder: { server?: TestServer } = {};
    holder.server = await serve((_req, res) => {
      res.writeHead(302, { location: location(holder.server as TestServer) });
      res.end();
    });
    return holder.server;
  }

  it.each([
    ['http://10.0.0.1/', '10.0.0.1 (private)'],
    ['http://169.254.169.254/latest/meta-data/iam/', '169.254.169.254 (link-local, cloud metadata)'],
    ['http://[::ffff:192.168.1.1]/', '(private, IPv4-mapped 192.168.1.1)'],
  ])('refuses a redirect to %s before connecting', async (target, described) => {
    const server = await redirectingServer(() => target);
    const error = await blocked(`${server.origin}/start`, loopbackOnly);
    expect(error.message).toContain(described);
    expect(error.message).toContain(`redirected from ${server.origin}/start`);
    expect(server.requests).toHaveLength(1);
  });

  it('refuses a redirect to a host name that resolves to a private address', async () => {
    const lookup = tableLookup({ 'internal.example.test': ['10.0.0.5'] });
    const server = await redirectingServer(() => 'http://internal.example.test/secret');
    const error = await blocked(`${server.origin}/start`, { ...loopbackOnly, lookup });
    expect(error.message).toContain('10.0.0.5 (private)');
    expect(lookup.asked).toEqual(['internal.example.test']);
  });

  it('refuses a redirect to another loopback address than the one allowed', async () => {
    const server = await redirectingServer((self) => `http://[::1]:${self.port}/again`);
    const error = await blocked(`${server.origin}/start`, loopbackOnly);
    expect(error.message).toContain('::1 (loopback)');
  });
});

describe('the SSRF guard lets through', () => {
  it('what allowPrivateUrls allows', async () => {
    const server = await serve((_req, res) => res.end('ok'));
    const source = await openSource(
      { kind: 'url', url: `${server.origin}/ok.txt` },
      { ...guarded, allowPrivateUrls: true },
    );
    await source.close();
    expect(server.requests).toHaveLength(1);
  });

  it('an allowedAddresses CIDR range, and nothing beside it', async () => {
    const server = await serve((_req, res) => res.end('ok'));
    const source = await openSource(
      { kind: 'url', url: `${server.origin}/ok.txt` },
      { ...guarded, allowedAddresses: ['127.0.0.0/8'] },
    );
    await source.close();
    await blocked('http://10.0.0.1/', { ...guarded, allowedAddresses: ['127.0.0.0/8'] });
  });

  it('a connection pinned to the checked address, whatever the name resolves to later (DNS rebinding)', async () => {
    const server = await serve((req, res) => {
      res.writeHead(200, { 'content-length': 2 });
      res.end(req.headers.host === `rebind.example.test:${server.port}` ? 'ok' : 'no');
    });
    const answers = ['127.0.0.1', '10.0.0.1'];
    const asked: string[] = [];
    const lookup: LookupFunction = async (hostname) => {
      asked.push(hostname);
      const address = answers.shift() ?? '10.0.0.1';
      return [{ address, family: 4 }];
    };
    const source = await openSource(
      { kind: 'url', url: `http://rebind.example.test:${server.port}/file.txt` },
      { ...guarded, allowedAddresses: ['127.0.0.1'], lookup },
    );
    const chunks: Buffer[] = [];
    for await (const chunk of source.stream) chunks.push(chunk as Buffer);
    await source.close();
    expect(Buffer.concat(chunks).toString()).toBe('ok');
    expect(asked).toEqual(['rebind.example.test']);
  });
});
