/** What one heal of one inode did, per transaction type, and the progress reports it sends. */
export type HealKind = 'entry' | 'metadata' | 'data';

export interface HealOutcome {
  kind: HealKind;
  result: 'healed' | 'clean' | 'split-brain' | 'failed';
  source?: number;
  sinks?: number[];
  /**
   * Data: bytes written to sinks (summed over sinks), read from the source, compared by
   * checksum (summed over bricks), and how the ranges to heal were found.
   */
  bytesCopied?: number;
  bytesRead?: number;
  bytesCompared?: number;
  ranges?: 'record' | 'checksum';
  /**
   * Data: where the heal's time went (ms): locks and decision, opens and the ranges record,
   * the copy (`batches` of `pieces`), the sinks' FSYNC, sizes/times/changelog reset; the
   * self-heal daemon logs it (docs/benchmarks.md "Replication: heal" breaks heal time down
   * with it).
   */
  timing?: {
    decideMs: number;
    setupMs: number;
    copyMs: number;
    fsyncMs: number;
    resetMs: number;
    batches: number;
    pieces: number;
  };
  reason?: string;
}

export interface HealProgress {
  gfid: Buffer;
  /** Bytes of the file's data heal done and in all: the ranges to copy, or the file's size without a record. */
  done: number;
  total: number;
}

export interface HealOptions {
  /** Picks a source when the inode is in split-brain; without it split-brain is only reported. */
  policy?: import('./policy.js').SplitBrainPolicy;
  onProgress?: (p: HealProgress) => void;
  signal?: AbortSignal;
}
