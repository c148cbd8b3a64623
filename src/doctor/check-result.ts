/**
 * What one doctor check found, and what to do about it.
 */

/** `fail` makes `doctor` exit 1; `warn` does not; `skip` means a check could not run because an earlier one failed. */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

/** The outcome of one check. */
export interface CheckResult {
  /** What was checked, e.g. `Redis maxmemory-policy`. */
  name: string;
  status: CheckStatus;
  /** What was found. Never contains a token or secret. */
  detail: string;
  /** For a failure or warning: how to fix it, naming the variable or setting at fault. */
  fix?: string;
}
