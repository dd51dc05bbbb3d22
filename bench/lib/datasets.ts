/** The bench's own databases: never the service's `memos`, never a test suite's. */
export const RW_DATABASE = 'memo_bench_rw';
export const RW_MEMOS = 100_000;
export const RW_SEED = 7;
export const SEARCH_SEED = 42;
export const searchDatabase = (memos: number): string =>
  memos >= 1_000_000 ? `memo_bench_search_${memos / 1_000_000}m` : `memo_bench_search_${memos / 1000}k`;
export const WRITES_DATABASE = 'memo_bench_writes';
