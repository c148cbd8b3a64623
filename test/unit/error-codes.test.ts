/**
 * The error-code catalog (src/shared/error-codes.ts) lists every code the tool raises, and the
 * README's table lists every code of the catalog: neither can drift from the code.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ManifestErrorCode } from '../../src/manifest/manifest-error.js';
import { ERROR_CODES, isKnownErrorCode } from '../../src/shared/error-codes.js';
import { SourceErrorCode } from '../../src/sources/errors.js';
import { LocalErrorCode } from '../../src/zoho/errors.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Every .ts file under src/, except the fake Zoho (whose codes are Zoho's, answered, not raised). */
function sourceFiles(dir = path.join(root, 'src')): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === 'fake-zoho' ? [] : sourceFiles(full);
    return full.endsWith('.ts') ? [full] : [];
  });
}

/** Codes written as literals where an error is made or recognised. */
const CODE_PATTERNS = [
  /\bcode:\s*'([A-Z][A-Z0-9_]+)'/g,
  /(?:ZohoAttachError|DashboardStartError|super)\(\s*'([A-Z][A-Z0-9_]+)'/g,
  /[`'"]\[([A-Z][A-Z0-9_]{2,})\]/g,
  /\bcode === '([A-Z][A-Z0-9_]+)'/g,
];

/** Codes of Node (errno), undici and csv-parse that the code recognises but never raises as its own. */
const FOREIGN = /^(?:E[A-Z]+|UND_ERR_[A-Z_]+|CSV_[A-Z_]+|CODE)$/;

describe('the error-code catalog', () => {
  it('has every code raised or recognised under src/', () => {
    const found = new Map<string, string>();
    for (const file of sourceFiles()) {
      const text = readFileSync(file, 'utf8');
      for (const pattern of CODE_PATTERNS)
        for (const match of text.matchAll(pattern)) found.set(match[1] as string, path.relative(root, file));
    }
    for (const value of [
      ...Object.values(LocalErrorCode),
      ...Object.values(SourceErrorCode),
      ...Object.values(ManifestErrorCode),
    ])
      found.set(value, 'a code table');
    expect(found.size).toBeGreaterThan(40);
    const missing = [...found.entries()]
      .filter(([code]) => !FOREIGN.test(code) && !isKnownErrorCode(code))
      .map(([code, where]) => `${code} (${where})`);
    expect(missing).toEqual([]);
  });

  it('is listed in the README, code by code', () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const listed = new Set([...readme.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]));
    expect(Object.keys(ERROR_CODES).filter((code) => !listed.has(code))).toEqual([]);
  });
});
