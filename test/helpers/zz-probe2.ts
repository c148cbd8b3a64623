import { execFile } from 'node:child_process';
import { truncate, writeFile, rm } from 'node:fs/promises';
import { startFakeZoho } from '../../src/fake-zoho/index.js';
const file = '/tmp/rss-probe.bin'; await writeFile(file, ''); await truncate(file, 100_000_000);
const fake = await startFakeZoho({ storeContent: false });
for (let i = 0; i < 3; i++) {
const out = await new Promise<string>((resolve, reject) => {
  execFile(process.execPath, ['--expose-gc', '--import', 'tsx', 'test/helpers/zz-child.ts', fake.url, fake.issueAccessToken({}), file], { cwd: '/work/main' }, (e, so, se) => { console.log(se); e ? reject(new Error(se)) : resolve(so); });
});
console.log('MB:', JSON.parse(out).rssGrowthBytes / 1048576);
}
await fake.close(); await rm(file);
