/**
 * A static file server for the large-file scenario's URL sources: serves the files of one
 * folder with an exact Content-Length. Runs as its own process (so its CPU is not the
 * orchestrator's); prints `LISTENING <port>`. The folder is `FILE_SERVER_ROOT`.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

const root = path.resolve(process.env.FILE_SERVER_ROOT ?? '.');

const server = http.createServer((req, res) => {
  void (async () => {
    const name = path.basename(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    const file = path.join(root, name);
    try {
      const info = await stat(file);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(info.size) });
      await pipeline(createReadStream(file), res);
    } catch {
      if (!res.headersSent) res.writeHead(404).end();
      else res.destroy();
    }
  })();
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`LISTENING ${(server.address() as { port: number }).port}\n`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
