/**
 * How big each scenario is: the full run (`npm run bench`, under 15 minutes on 2 cores) and
 * the quick one (`npm run bench -- --quick`, a couple of minutes).
 */

/** Counts per scenario. */
export interface BenchSizes {
  label: 'full' | 'quick';
  zohoBound: { files: number; sequentialFiles: number };
  overhead: { uploads: number; sequentialUploads: number };
  largeFiles: { files: number; bytes: number };
  hugeManifest: { rows: number; finishedRows: number };
  scaleOut: { files: number; sequentialFiles: number };
}

/** The sizes the goals are stated for. */
export const FULL_SIZES: BenchSizes = {
  label: 'full',
  zohoBound: { files: 2_000, sequentialFiles: 200 },
  overhead: { uploads: 20_000, sequentialUploads: 3_000 },
  largeFiles: { files: 20, bytes: 100_000_000 },
  hugeManifest: { rows: 1_000_000, finishedRows: 5_000 },
  scaleOut: { files: 8_000, sequentialFiles: 200 },
};

/** Smaller counts, same shapes. */
export const QUICK_SIZES: BenchSizes = {
  label: 'quick',
  zohoBound: { files: 400, sequentialFiles: 50 },
  overhead: { uploads: 3_000, sequentialUploads: 500 },
  largeFiles: { files: 10, bytes: 50_000_000 },
  hugeManifest: { rows: 100_000, finishedRows: 1_000 },
  scaleOut: { files: 1_600, sequentialFiles: 50 },
};

/** Bytes of each small file. */
export const SMALL_FILE_BYTES = 1_024;
