/** Telling loopback addresses apart from everything else, for the listen address and for Host headers. */
import ipaddr from 'ipaddr.js';

/**
 * True for `localhost`, `127.0.0.0/8`, `::1` and their IPv4-mapped form, with or without IPv6
 * brackets. Anything else — `0.0.0.0`, `::`, a LAN address, another name — may be reachable
 * from other machines.
 */
export function isLoopbackHost(host: string): boolean {
  const name = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
  if (name === 'localhost') return true;
  if (!ipaddr.isValid(name)) return false;
  const address = ipaddr.process(name); // IPv4-mapped IPv6 becomes IPv4
  return address.range() === 'loopback';
}

/** `host[:port]`, where host is a name, an IPv4 address or a bracketed IPv6 address. */
const HOST_HEADER = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::\d{1,5})?$/i;

/** The host name of a `Host` header (`127.0.0.1:3000`, `[::1]:3000`, `localhost`), or undefined when it is malformed. */
export function hostNameOf(hostHeader: string | undefined): string | undefined {
  return hostHeader === undefined ? undefined : HOST_HEADER.exec(hostHeader.trim())?.[1];
}
