/**
 * Opens one file source as another user, for the refusal tests that root would pass: root
 * reads any file whatever its mode, and CI runs as root. Every module is loaded first, then
 * the process drops to the given user and group, then it opens the file and prints the
 * outcome as JSON: `{"opened":true}` or `{"code":"SOURCE_…"}`.
 *
 * Usage: node --import tsx test/helpers/open-file-as-user.ts <uid> <gid> <file> <root>
 */
import { openSource, SourceError } from '../../src/sources/index.js';

const [uid, gid, filePath, root] = process.argv.slice(2);
if (!uid || !gid || !filePath || !root) throw new Error('usage: <uid> <gid> <file> <root>');

if (!process.setgid || !process.setuid) throw new Error('dropping privileges needs a POSIX system');
process.setgid(Number(gid));
process.setuid(Number(uid));
try {
  const source = await openSource({ kind: 'file', path: filePath }, { fileRoots: [root], allowPrivateUrls: false });
  await source.close();
  process.stdout.write(JSON.stringify({ opened: true }));
} catch (error) {
  if (!(error instanceof SourceError)) throw error;
  process.stdout.write(JSON.stringify({ code: error.code }));
}
