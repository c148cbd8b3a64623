/** For tests of Zoho calls that must fail. */
import { expect } from 'vitest';
import { ZohoError } from '../../src/zoho/index.js';

/** The ZohoError a call fails with (the test fails when it succeeds or fails otherwise). */
export async function zohoFailure(promise: Promise<unknown>): Promise<ZohoError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ZohoError);
  return error as ZohoError;
}
