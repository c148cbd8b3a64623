/**
 * What a worker may read when the defaults are left alone: ./files only (never the working
 * directory with its .env and .git), no dotfiles or dot-directories below a root unless allowed,
 * and hard-linked files refused when the setting asks for it.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { openSource, sourceLimitsOf } from '../../src/sources/index.js';

let dir: string;
beforeEach(async () => {
  dir = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'za-dotfiles-')));
  await fs.mkdir(path.join(dir, 'files', '.git'), { recursive: true });
  await fs.writeFile(path.join(dir, '.env'), 'ZOHO_CLIENT_SECRET=shh');
  await fs.writeFile(path.join(dir, 'files', '.env'), 'ZOHO_CLIENT_SECRET=shh');
  await fs.writeFile(path.join(dir, 'files', '.git', 'config'), '[remote]');
  await fs.writeFile(path.join(dir, 'files', 'contract.pdf'), 'pdf');
  await fs.symlink(path.join(dir, 'files', '.env'), path.join(dir, 'files', 'innocent.txt'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const open = async (env: Record<string, string>, file: string) => {
  const source = await openSource({ kind: 'file', path: file }, sourceLimitsOf(loadConfig(env, dir).sources));
  await source.close();
  return source.fileName;
};
const refusal = (env: Record<string, string>, file: string) =>
  open(env, file).then(
    () => undefined,
    (error: unknown) => error,
  );

describe('file roots and dotfiles', () => {
  it("with no ZOHO_ATTACH_FILE_ROOTS, reads ./files only: the working directory's .env is outside", async () => {
    expect(await open({}, path.join(dir, 'files', 'contract.pdf'))).toBe('contract.pdf');
    expect(await refusal({}, path.join(dir, '.env'))).toMatchObject({ code: 'SOURCE_OUTSIDE_ROOTS' });
  });

  it.each(['.env', '.git/config', 'innocent.txt'])(
    'refuses %s below a root, named or reached through a link',
    async (name) => {
      expect(await refusal({}, path.join(dir, 'files', name))).toMatchObject({
        code: 'SOURCE_FORBIDDEN_TYPE',
        message: expect.stringContaining(
          'refused: a dotfile or a file in a dot-directory (set ZOHO_ATTACH_ALLOW_DOTFILES=true',
        ),
      });
    },
  );

  it('allows them with ZOHO_ATTACH_ALLOW_DOTFILES=true', async () => {
    expect(await open({ ZOHO_ATTACH_ALLOW_DOTFILES: 'true' }, path.join(dir, 'files', '.git', 'config'))).toBe(
      'config',
    );
  });

  it('refuses hard-linked files only when ZOHO_ATTACH_REFUSE_HARD_LINKS=true', async () => {
    await fs.link(path.join(dir, 'files', 'contract.pdf'), path.join(dir, 'files', 'copy.pdf'));
    expect(await open({}, path.join(dir, 'files', 'copy.pdf'))).toBe('copy.pdf');
    expect(await refusal({ ZOHO_ATTACH_REFUSE_HARD_LINKS: 'true' }, path.join(dir, 'files', 'copy.pdf'))).toMatchObject(
      { code: 'SOURCE_HARD_LINKED' },
    );
  });
});
