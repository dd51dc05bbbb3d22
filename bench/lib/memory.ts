/** Peak RSS samples taken by scenarios 1 and 4, reported by scenario 7. */
export interface MemorySample {
  readonly scenario: number;
  readonly process: string;
  readonly peakRssMiB: number;
  readonly rssMiB: number;
}

export const memorySamples: MemorySample[] = [];
