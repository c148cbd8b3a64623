/** The file types Zoho refuses, however a name disguises them. */
import { describe, expect, it } from 'vitest';
import { isForbiddenFileName } from '../../src/sources/file-name.js';

describe('isForbiddenFileName', () => {
  it.each(['setup.exe', 'SETUP.EXE', 'a.b.Exe'])('refuses %s', (name) => {
    expect(isForbiddenFileName(name)).toBe(true);
  });
  it.each(['exe', 'setup.exe.pdf', 'setup.exec', 'notes.txt', 'noextension'])('accepts %s', (name) => {
    expect(isForbiddenFileName(name)).toBe(false);
  });
});
