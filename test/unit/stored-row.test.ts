import { describe, expect, it } from 'vitest';
import { decodeStoredRow, encodeStoredRow } from '../../src/ledger/stored-row.js';
import type { StoredRow } from '../../src/ledger/types.js';

const row: StoredRow = {
  jobId: 'u-0123456789abcdef0123456789abcdef',
  module: 'Accounts',
  record_id: '4876876000000001',
  file: '',
  link_url: 'https://files.example.com/a.pdf',
  title: 'Contract "A", v2',
  extra: {},
};

describe('stored batch rows', () => {
  it('are written without field names and read back whole, with and without pass-through columns', () => {
    expect(encodeStoredRow(row)).toBe(
      '["u-0123456789abcdef0123456789abcdef","Accounts","4876876000000001","","https://files.example.com/a.pdf","Contract \\"A\\", v2"]',
    );
    expect(decodeStoredRow(encodeStoredRow(row))).toEqual(row);
    const withExtra = { ...row, extra: { legacy_id: 'L-1', owner: 'Ann' } };
    expect(decodeStoredRow(encodeStoredRow(withExtra))).toEqual(withExtra);
  });

  it('written by earlier versions as objects are still read', () => {
    expect(decodeStoredRow(JSON.stringify(row))).toEqual(row);
  });
});
