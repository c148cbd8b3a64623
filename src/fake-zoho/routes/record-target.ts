/** Checks shared by every Attachments route: the module and the record id in the path. */
import type { ApiAnswer } from '../exchange.js';
import type { ModuleCatalog } from '../modules.js';
import type { AttachmentsTarget } from '../router.js';
import { zohoError } from '../zoho-answers.js';

/** Zoho record ids are numeric, up to 19 digits. */
const RECORD_ID_PATTERN = /^\d{1,19}$/;

/** `details.resource_path_index` counts the path's segments after the version. */
export const RESOURCE_PATH_INDEX = { module: 0, recordId: 1, attachmentId: 3 } as const;

/** The 400 answer for a bad module or record id, or undefined when both are fine. */
export function refuseInvalidTarget(target: AttachmentsTarget, modules: ModuleCatalog): ApiAnswer | undefined {
  const details = { resource_path_index: RESOURCE_PATH_INDEX.module };
  switch (modules.verdict(target.module)) {
    case 'unknown':
      return zohoError('INVALID_MODULE', details);
    case 'unsupported':
      return zohoError('INVALID_MODULE', details, 'The given module is not supported in API');
    case 'supported':
      break;
  }
  if (!RECORD_ID_PATTERN.test(target.recordId)) {
    return zohoError('INVALID_DATA', { resource_path_index: RESOURCE_PATH_INDEX.recordId });
  }
  return undefined;
}
