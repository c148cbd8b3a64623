/**
 * Baseline: one upload at a time, in a plain loop, like Zoho's own sample code.
 * Spec: { zoho, uploads }.
 */
import { countStatus, measure, readSpec, type BaselineUpload, type BaselineZoho } from './spec.js';
import { postAttachment } from './zoho-post.js';

const spec = readSpec<{ zoho: BaselineZoho; uploads: BaselineUpload[] }>();

await measure(async () => {
  const statuses: Record<string, number> = {};
  let bytes = 0;
  for (const upload of spec.uploads) {
    try {
      const status = await postAttachment(spec.zoho, upload);
      countStatus(statuses, status);
      if (status === 200) bytes += upload.size;
    } catch {
      countStatus(statuses, 'error');
    }
  }
  return { uploads: spec.uploads.length, statuses, bytes };
});
