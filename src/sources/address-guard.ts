/**
 * The SSRF guard: a manifest URL must not make a worker fetch from the machine itself, the
 * office network or a cloud metadata endpoint and upload the answer to Zoho. Every address
 * a host name resolves to is judged *before* any connection is made, and the caller then
 * connects to exactly the address that was judged (see `url-source.ts`), so a DNS answer
 * that changes in between (rebinding) cannot slip past.
 */
import dns from 'node:dns/promises';
import net from 'node:net';
import ipaddr from 'ipaddr.js';
import { SourceError, SourceErrorCode } from './errors.js';

/** One address a host name resolves to. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address it has (like `dns.lookup` with `all: true`). */
export type LookupFunction = (hostname: string) => Promise<ResolvedAddress[]>;

/** The system resolver (`/etc/hosts`, then DNS), as the OS would resolve the name to connect. */
export const systemLookup: LookupFunction = async (hostname) => {
  const found = await dns.lookup(hostname, { all: true, verbatim: true });
  return found.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
};

/** Which addresses URLs may reach. */
export interface AddressPolicy {
  /** Every address is allowed (`allowPrivateUrls`). */
  allowAll: boolean;
  /** Ranges allowed although the guard would refuse them. */
  allowed: ReadonlyArray<[ipaddr.IPv4 | ipaddr.IPv6, number]>;
}

/**
 * Builds a policy from the limits' `allowPrivateUrls` and `allowedAddresses`.
 * @throws TypeError when an entry of `allowedAddresses` is neither an address nor a CIDR range
 */
export function addressPolicy(allowPrivateUrls: boolean, allowedAddresses: readonly string[] = []): AddressPolicy {
  const allowed = allowedAddresses.map((entry): [ipaddr.IPv4 | ipaddr.IPv6, number] => {
    if (ipaddr.isValidCIDR(entry)) return ipaddr.parseCIDR(entry);
    if (ipaddr.isValid(entry)) {
      const ip = ipaddr.parse(entry);
      return [ip, ip.kind() === 'ipv4' ? 32 : 128];
    }
    throw new TypeError(`allowedAddresses: "${entry}" is neither an IP address nor a CIDR range`);
  });
  return { allowAll: allowPrivateUrls, allowed };
}

/** How the guard judges one address. */
export interface AddressVerdict {
  allowed: boolean;
  /** What kind of address it is, for messages: `public`, `loopback`, `private`, `link-local`, … */
  range: string;
}

/** ipaddr.js range names, as people say them. */
const RANGE_NAMES: Readonly<Record<string, string>> = {
  unicast: 'public',
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  linkLocal: 'link-local',
  loopback: 'loopback',
  carrierGradeNat: 'carrier-grade NAT',
  private: 'private',
  uniqueLocal: 'unique-local',
  deprecatedSiteLocal: 'site-local',
  rfc6052: 'NAT64 local-use',
  teredo: 'Teredo tunnel',
  '6to4': '6to4 relay',
};

const METADATA_ADDRESS = '169.254.169.254';
// Outside 2000::/3 nothing is routable on the internet (apart from the NAT64 prefix handled
// below), so IPv6 is allowed only there: that also refuses the deprecated IPv4-compatible
// ::a.b.c.d form, which ipaddr.js calls "unicast".
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');
const NAT64_WELL_KNOWN = ipaddr.parseCIDR('64:ff9b::/96');

/**
 * Judges one address by its range alone (no policy): only public unicast is allowed. An
 * IPv6 address that carries an IPv4 address (IPv4-mapped `::ffff:a.b.c.d`, IPv4-translated,
 * NAT64 `64:ff9b::a.b.c.d`, 6to4 `2002:aabb:ccdd::`) is judged by the IPv4 address it
 * leads to, since that is where the packets end up.
 */
export function classifyAddress(address: string): AddressVerdict {
  if (!ipaddr.isValid(address)) return { allowed: false, range: 'not an IP address' };
  const ip = ipaddr.parse(address);
  if (ip.kind() === 'ipv4') return classifyIPv4(ip as ipaddr.IPv4);

  const v6 = ip as ipaddr.IPv6;
  const embedded = embeddedIPv4(v6);
  if (embedded !== undefined) {
    const inner = classifyIPv4(embedded.ip);
    return { allowed: inner.allowed, range: `${inner.range}, ${embedded.via} ${embedded.ip.toString()}` };
  }
  const range = v6.range();
  if (range === 'unicast' && !v6.match(GLOBAL_UNICAST_V6)) return { allowed: false, range: 'not global unicast' };
  return { allowed: range === 'unicast', range: RANGE_NAMES[range] ?? range };
}

function classifyIPv4(ip: ipaddr.IPv4): AddressVerdict {
  const range = ip.range();
  const name = RANGE_NAMES[range] ?? range;
  return {
    allowed: range === 'unicast',
    range: ip.toString() === METADATA_ADDRESS ? `${name}, cloud metadata` : name,
  };
}

function embeddedIPv4(ip: ipaddr.IPv6): { ip: ipaddr.IPv4; via: string } | undefined {
  const range = ip.range();
  const low32 = (): ipaddr.IPv4 => fromParts(ip.parts[6] ?? 0, ip.parts[7] ?? 0);
  if (range === 'ipv4Mapped') return { ip: low32(), via: 'IPv4-mapped' };
  if (range === 'rfc6145') return { ip: low32(), via: 'IPv4-translated' };
  if (range === 'rfc6052' && ip.match(NAT64_WELL_KNOWN)) return { ip: low32(), via: 'NAT64 for' };
  if (range === '6to4') return { ip: fromParts(ip.parts[1] ?? 0, ip.parts[2] ?? 0), via: '6to4 for' };
  return undefined;
}

function fromParts(high: number, low: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

/** Judges one address under a policy: allowed by the policy's exceptions or by its range. */
export function judgeAddress(address: string, policy: AddressPolicy): AddressVerdict {
  const verdict = classifyAddress(address);
  if (verdict.allowed || policy.allowAll) return { ...verdict, allowed: true };
  if (ipaddr.isValid(address)) {
    // process() turns ::ffff:a.b.c.d into a.b.c.d so an IPv4 exception covers its mapped form.
    const ip = ipaddr.process(address);
    if (policy.allowed.some(([range, bits]) => range.kind() === ip.kind() && ip.match(range, bits))) {
      return { ...verdict, allowed: true };
    }
  }
  return verdict;
}

/** What {@link resolveAllowedAddress} works with: the policy, a resolver and its time limit. */
export interface GuardContext {
  policy: AddressPolicy;
  lookup: LookupFunction;
  timeoutMs: number;
  /** Names the URL in messages (without credentials or query). */
  label: string;
}

/**
 * Resolves the URL's host and judges every address it has; one refused address refuses
 * the host, since the connection could otherwise be steered to it. Makes no connection.
 * @returns the address to connect to (the first one resolved)
 * @throws SourceError `SOURCE_URL_BLOCKED`, `SOURCE_URL_NETWORK` (no such host) or
 *   `SOURCE_URL_TIMEOUT` (the resolver did not answer within `timeoutMs`)
 */
export async function resolveAllowedAddress(url: URL, context: GuardContext): Promise<ResolvedAddress> {
  // WHATWG URLs keep IPv6 literals in brackets: [::1].
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const literalFamily = net.isIP(host);
  const addresses: ResolvedAddress[] =
    literalFamily === 0
      ? await lookupWithTimeout(host, context)
      : [{ address: host, family: literalFamily === 6 ? 6 : 4 }];
  if (addresses.length === 0) {
    throw new SourceError(SourceErrorCode.URL_NETWORK, `${context.label}: ${host} resolves to no address`);
  }
  for (const { address } of addresses) {
    const verdict = judgeAddress(address, context.policy);
    if (!verdict.allowed) {
      throw new SourceError(
        SourceErrorCode.URL_BLOCKED,
        `${context.label} resolves to ${address} (${verdict.range}); only public addresses may be fetched ` +
          '(ZOHO_ATTACH_ALLOW_PRIVATE_URLS lifts this)',
      );
    }
  }
  return addresses[0] as ResolvedAddress;
}

async function lookupWithTimeout(host: string, context: GuardContext): Promise<ResolvedAddress[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new SourceError(
            SourceErrorCode.URL_TIMEOUT,
            `${context.label}: resolving ${host} took over ${context.timeoutMs} ms`,
          ),
        ),
      context.timeoutMs,
    );
  });
  try {
    return await Promise.race([context.lookup(host), timeout]);
  } catch (error) {
    if (error instanceof SourceError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? 'lookup failed';
    throw new SourceError(SourceErrorCode.URL_NETWORK, `${context.label}: cannot resolve ${host} (${code})`, {
      cause: error,
    });
  } finally {
    clearTimeout(timer);
  }
}
