/** HTTP basic authentication with a constant-time check. */
import { createHash, timingSafeEqual } from 'node:crypto';

/** The user name and password the dashboard asks for. */
export interface DashboardCredentials {
  user: string;
  password: string;
}

/** Reads an `Authorization: Basic …` header; undefined when absent or malformed. */
export function parseBasicAuthorization(header: string | undefined): DashboardCredentials | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * True when both the user and the password match, in time that does not depend on where
 * they differ: SHA-256 digests give timingSafeEqual equal lengths, and both comparisons
 * always run, so neither the length of a secret nor which half was wrong leaks.
 */
export function credentialsMatch(given: DashboardCredentials, expected: DashboardCredentials): boolean {
  const userMatches = timingSafeEqual(digest(given.user), digest(expected.user));
  const passwordMatches = timingSafeEqual(digest(given.password), digest(expected.password));
  return userMatches && passwordMatches;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
