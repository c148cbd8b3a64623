/**
 * Is this machine's clock close to Zoho's? Adoption and settle-and-verify compare Zoho's
 * `Created_Time` with the start of a row's attempts, allowing `ZOHO_ATTACH_CLOCK_SKEW_MS`.
 * A clock that runs ahead of Zoho's by more than that hides this row's own copies from both
 * (duplicates stay); one far behind widens the window. Zoho's `Date` header tells its time.
 */
import { request } from 'undici';
import type { Config } from '../config/config.js';
import type { CheckResult } from './check-result.js';

/** How long the probe may take; the `Date` header has whole seconds anyway. */
const PROBE_TIMEOUT_MS = 10_000;

/**
 * Reads the `Date` header of one unauthenticated request to the API domain (it costs no
 * credit: nothing is asked of the API) and compares it with this machine's clock.
 */
export async function checkClock(config: Config, now: () => number = Date.now): Promise<CheckResult> {
  const name = 'Clock';
  const allowedMs = config.queue.clockSkewMs;
  const sentAt = now();
  let zohoTime: number;
  try {
    const response = await request(config.zoho.apiDomain, {
      method: 'HEAD',
      headersTimeout: PROBE_TIMEOUT_MS,
      bodyTimeout: PROBE_TIMEOUT_MS,
    });
    await response.body.dump();
    const header = response.headers.date;
    zohoTime = Date.parse(Array.isArray(header) ? (header[0] ?? '') : (header ?? ''));
    if (Number.isNaN(zohoTime))
      return { name, status: 'skip', detail: `${config.zoho.apiDomain} sent no Date header to compare with` };
  } catch (error) {
    return {
      name,
      status: 'skip',
      detail: `could not reach ${config.zoho.apiDomain} to read its time (${(error as Error).message})`,
    };
  }
  const receivedAt = now();
  // The header has whole seconds, and the answer took some time: this machine is off by at least `skewMs`.
  const localMid = (sentAt + receivedAt) / 2;
  const uncertaintyMs = 1_000 + (receivedAt - sentAt) / 2;
  const offsetMs = localMid - zohoTime;
  const skewMs = Math.max(0, Math.abs(offsetMs) - uncertaintyMs);
  const described = `this machine's clock is ${Math.round(Math.abs(offsetMs) / 1000)} s ${offsetMs >= 0 ? 'ahead of' : 'behind'} Zoho's (± ${Math.ceil(uncertaintyMs / 1000)} s)`;
  if (skewMs <= allowedMs / 2) return { name, status: 'pass', detail: described };
  return {
    name,
    status: 'warn',
    detail: `${described}; ZOHO_ATTACH_CLOCK_SKEW_MS allows ${Math.round(allowedMs / 1000)} s`,
    fix: "synchronise this machine's clock (NTP: timedatectl set-ntp true), or raise ZOHO_ATTACH_CLOCK_SKEW_MS above the difference: a clock ahead of Zoho's keeps late copies from being recognised and removed",
  };
}
