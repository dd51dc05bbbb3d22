import { ensureDataset } from './data/loader';
import { searchDatabase, SEARCH_SEED } from './lib/datasets';

/*
 * Loads (or confirms) the search data set ahead of a run: npm run -s bench:load -- 1000000.
 * The bench does the same on demand; this only lets the slow first load happen separately.
 */
const memos = Number(process.argv[2] ?? 1_000_000);
ensureDataset(searchDatabase(memos), memos, SEARCH_SEED, (line) => process.stdout.write(`${line}\n`)).catch(
  (err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exitCode = 1;
  },
);
