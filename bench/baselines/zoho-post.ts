/**
 * One attachment upload the way Zoho's own samples do it: a `form-data` body with the file
 * part, POSTed with undici `request()`. No retries, no ledger, no de-duplication.
 */
import { createReadStream } from 'node:fs';
import { PassThrough } from 'node:stream';
import FormData from 'form-data';
import { request } from 'undici';
import type { BaselineUpload, BaselineZoho } from './spec.js';

/** Posts one local file; resolves with the HTTP status (the body is read and dropped). */
export async function postAttachment(zoho: BaselineZoho, upload: BaselineUpload): Promise<number> {
  if (!upload.path) throw new Error('postAttachment needs a local file');
  const form = new FormData();
  form.append('file', createReadStream(upload.path), { filename: upload.fileName, knownLength: upload.size });
  const body = new PassThrough();
  form.pipe(body);
  const response = await request(`${zoho.apiDomain}/crm/v2.1/${upload.module}/${upload.recordId}/Attachments`, {
    method: 'POST',
    headers: {
      ...form.getHeaders(),
      'content-length': String(form.getLengthSync()),
      authorization: `Zoho-oauthtoken ${zoho.accessToken}`,
    },
    body,
  });
  await response.body.text();
  return response.statusCode;
}
