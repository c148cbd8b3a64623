/**
 * What this process has open, from /proc/self/fd (Linux): for tests that a file handle, a spool
 * file or a download's temporary file was closed.
 */
import fs from 'node:fs';

/** Paths of this process's open descriptors that lie under `prefix`. */
export function openDescriptorsUnder(prefix: string): string[] {
  return fs
    .readdirSync('/proc/self/fd')
    .map((fd) => {
      try {
        return fs.readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return '';
      }
    })
    .filter((target) => target.startsWith(prefix));
}
