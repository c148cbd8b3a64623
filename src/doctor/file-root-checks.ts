/**
 * Do the folders workers may read files from exist, and can this user read them?
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import type { CheckResult } from './check-result.js';

/** One check per root of `ZOHO_ATTACH_FILE_ROOTS` (already resolved to absolute paths by the config). */
export async function checkFileRoots(roots: readonly string[]): Promise<CheckResult[]> {
  return Promise.all(roots.map(checkFileRoot));
}

async function checkFileRoot(root: string): Promise<CheckResult> {
  const name = `file root ${root}`;
  const fix =
    "correct ZOHO_ATTACH_FILE_ROOTS (folders separated by ':'; relative ones resolve against the working directory), or create or mount the folder";
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(root)).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const detail = code === 'ENOENT' ? 'does not exist' : `cannot be examined (${code ?? (error as Error).message})`;
    return { name, status: 'fail', detail, fix };
  }
  if (!isDirectory) return { name, status: 'fail', detail: 'is not a folder', fix };
  try {
    // Read to list it, execute to open what is inside.
    await access(root, constants.R_OK | constants.X_OK);
  } catch {
    return {
      name,
      status: 'fail',
      detail: `is not readable by this user (uid ${process.getuid?.() ?? '?'})`,
      fix: 'let the user workers run as read the folder (chmod/chown, or a read-only mount it can read), or correct ZOHO_ATTACH_FILE_ROOTS',
    };
  }
  return { name, status: 'pass', detail: 'exists and is readable' };
}
