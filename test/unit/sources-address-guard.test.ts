/**
 * The SSRF guard's judgement of addresses and its resolution step, with injected
 * resolvers: nothing here opens a connection.
 */
import { describe, expect, it } from 'vitest';
import {
  addressPolicy,
  classifyAddress,
  judgeAddress,
  resolveAllowedAddress,
  type GuardContext,
  type LookupFunction,
} from '../../src/sources/address-guard.js';
import { SourceError } from '../../src/sources/errors.js';

describe('classifyAddress', () => {
  it.each([
    ['8.8.8.8', 'public'],
    ['93.184.216.34', 'public'],
    ['2606:4700:4700::1111', 'public'],
    ['64:ff9b::808:808', 'public, NAT64 for 8.8.8.8'],
    ['2002:808:808::1', 'public, 6to4 for 8.8.8.8'],
    ['::ffff:8.8.8.8', 'public, IPv4-mapped 8.8.8.8'],
  ])('allows %s (%s)', (address, range) => {
    expect(classifyAddress(address)).toEqual({ allowed: true, range });
  });

  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.1.1', 'link-local'],
    ['169.254.169.254', 'link-local, cloud metadata'],
    ['fe80::1', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd00:ec2::254', 'unique-local'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.255', 'carrier-grade NAT'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.2.1', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['fec0::1', 'site-local'],
    ['::ffff:127.0.0.1', 'loopback, IPv4-mapped 127.0.0.1'],
    ['::ffff:169.254.169.254', 'link-local, cloud metadata, IPv4-mapped 169.254.169.254'],
    ['::ffff:0:10.0.0.1', 'private, IPv4-translated 10.0.0.1'],
    ['64:ff9b::7f00:1', 'loopback, NAT64 for 127.0.0.1'],
    ['64:ff9b:1::a00:1', 'NAT64 local-use'],
    ['2002:a00:1::', 'private, 6to4 for 10.0.0.1'],
    ['2001::1', 'Teredo tunnel'],
    ['::7f00:1', 'not global unicast'],
    ['not-an-ip', 'not an IP address'],
  ])('refuses %s (%s)', (address, range) => {
    expect(classifyAddress(address)).toEqual({ allowed: false, range });
  });

  it('does not mistake the edges of private ranges for private', () => {
    expect(classifyAddress('172.32.0.1').allowed).toBe(true);
    expect(classifyAddress('172.15.255.255').allowed).toBe(true);
    expect(classifyAddress('100.128.0.1').allowed).toBe(true);
    expect(classifyAddress('11.0.0.1').allowed).toBe(true);
  });
});

describe('judgeAddress', () => {
  it('allows everything with allowPrivateUrls', () => {
    const policy = addressPolicy(true);
    expect(judgeAddress('127.0.0.1', policy).allowed).toBe(true);
    expect(judgeAddress('169.254.169.254', policy).allowed).toBe(true);
  });

  it('allows exactly the listed addresses and ranges, in their IPv4-mapped form too', () => {
    const policy = addressPolicy(false, ['127.0.0.1', '10.1.2.0/24', 'fd00::/8']);
    expect(judgeAddress('127.0.0.1', policy)).toEqual({ allowed: true, range: 'loopback' });
    expect(judgeAddress('::ffff:127.0.0.1', policy).allowed).toBe(true);
    expect(judgeAddress('10.1.2.200', policy).allowed).toBe(true);
    expect(judgeAddress('fd12::1', policy).allowed).toBe(true);
    expect(judgeAddress('127.0.0.2', policy)).toEqual({ allowed: false, range: 'loopback' });
    expect(judgeAddress('10.1.3.1', policy).allowed).toBe(false);
    expect(judgeAddress('::1', policy).allowed).toBe(false);
    expect(judgeAddress('8.8.8.8', policy).allowed).toBe(true);
  });

  it('rejects an allowedAddresses entry that is not an address or range', () => {
    expect(() => addressPolicy(false, ['intranet.local'])).toThrow(TypeError);
  });
});

describe('resolveAllowedAddress', () => {
  function context(lookup: LookupFunction, overrides: Partial<GuardContext> = {}): GuardContext {
    return { policy: addressPolicy(false), lookup, timeoutMs: 1_000, label: 'the URL', ...overrides };
  }
  const never: LookupFunction = async () => {
    throw new Error('an IP literal must not be looked up');
  };

  async function failure(promise: Promise<unknown>): Promise<SourceError> {
    const error = await promise.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(SourceError);
    return error as SourceError;
  }

  it('returns the first address of a public host', async () => {
    const lookup: LookupFunction = async () => [
      { address: '2606:4700::1', family: 6 },
      { address: '93.184.216.34', family: 4 },
    ];
    expect(await resolveAllowedAddress(new URL('https://files.example.test/x'), context(lookup))).toEqual({
      address: '2606:4700::1',
      family: 6,
    });
  });

  it('takes IP literals as they are, brackets removed', async () => {
    expect(await resolveAllowedAddress(new URL('http://[2606:4700::1]:8080/'), context(never))).toEqual({
      address: '2606:4700::1',
      family: 6,
    });
    expect(await resolveAllowedAddress(new URL('http://8.8.8.8/'), context(never))).toEqual({
      address: '8.8.8.8',
      family: 4,
    });
  });

  it('refuses the host when any of its addresses is refused', async () => {
    const lookup: LookupFunction = async () => [
      { address: '93.184.216.34', family: 4 },
      { address: '10.0.0.1', family: 4 },
    ];
    const error = await failure(resolveAllowedAddress(new URL('http://mixed.test/'), context(lookup)));
    expect(error.code).toBe('SOURCE_URL_BLOCKED');
    expect(error.message).toContain('resolves to 10.0.0.1 (private)');
  });

  it('reports an unknown host as a transient network error', async () => {
    const lookup: LookupFunction = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    };
    const error = await failure(resolveAllowedAddress(new URL('http://nowhere.test/'), context(lookup)));
    expect({ code: error.code, classification: error.classification }).toEqual({
      code: 'SOURCE_URL_NETWORK',
      classification: 'transient',
    });
    expect(error.message).toContain('ENOTFOUND');
  });

  it('reports a host without addresses as a network error', async () => {
    const error = await failure(
      resolveAllowedAddress(
        new URL('http://empty.test/'),
        context(async () => []),
      ),
    );
    expect(error.code).toBe('SOURCE_URL_NETWORK');
  });

  it('times out a resolver that does not answer', async () => {
    const hanging: LookupFunction = () => new Promise(() => undefined);
    const error = await failure(
      resolveAllowedAddress(new URL('http://slow.test/'), context(hanging, { timeoutMs: 50 })),
    );
    expect({ code: error.code, classification: error.classification }).toEqual({
      code: 'SOURCE_URL_TIMEOUT',
      classification: 'transient',
    });
  });
});
