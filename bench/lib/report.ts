import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Headline, REPO_ROOT, ScenarioOutput, table } from './context';

export interface RunReport {
  readonly date: string;
  readonly finished: string;
  readonly command: string;
  readonly mode: string;
  readonly gitCommit: string;
  readonly gitDirty: boolean;
  readonly machine: Record<string, unknown> & {
    cpuCount: number;
    cpuModel: string;
    memoryGiB: number;
    node: string;
    os: string;
    mariadb: string;
    innodbBufferPoolMiB: number;
    loadAverageBefore: number[];
    loadAverageAfter: number[];
  };
  readonly resultsFile: string;
}

export interface ScenarioRecord {
  readonly id: number;
  readonly title: string;
  readonly seconds: number;
  readonly output?: ScenarioOutput;
  readonly error?: string;
}

const load = (l: number[]): string => l.map((v) => v.toFixed(2)).join(' / ');

/** BENCHMARKS.md: the latest run, its machine, a summary table, then every scenario's section. */
export function renderMarkdown(run: RunReport, scenarios: readonly ScenarioRecord[]): string {
  const m = run.machine;
  // Only the load before the run says whether other work competed: the load after it is mostly the benchmark's own.
  const busy = m.loadAverageBefore[0] > m.cpuCount * 0.25;
  const headlines: (Headline & { id: number })[] = scenarios.flatMap((s) =>
    (s.output?.headlines ?? []).map((h) => ({ ...h, id: s.id })),
  );
  const analysisFile = path.join(REPO_ROOT, 'bench', 'analysis.md');
  const analysis = existsSync(analysisFile) ? readFileSync(analysisFile, 'utf8').trim() : '';
  const seconds = (Date.parse(run.finished) - Date.parse(run.date)) / 1000;
  const took = `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  const lines = [
    '# Benchmarks',
    '',
    '<!-- Written by `npm run bench` (bench/lib/report.ts); edit bench/analysis.md for the notes section. -->',
    '',
    `Latest run: **${run.date}** (${run.mode} mode), commit \`${run.gitCommit.slice(0, 12)}\`${run.gitDirty ? ' with uncommitted changes in app/, bench/ or charts/' : ''}, ` +
      `produced by \`${run.command}\` in ${took}; machine-readable results in \`${run.resultsFile}\` (git-ignored).`,
    '',
    `Machine: ${m.cpuCount} × ${m.cpuModel}, ${m.memoryGiB} GiB RAM, ${m.os}, Node ${m.node}, MariaDB ${m.mariadb} ` +
      `(InnoDB buffer pool ${m.innodbBufferPoolMiB} MiB), Redis and a single Kafka 3.9.1 broker on the same machine, all on 127.0.0.1. ` +
      `Load average (1/5/15 min) before the run ${load(m.loadAverageBefore)}, after ${load(m.loadAverageAfter)}.`,
    '',
    busy
      ? `**Other work was running on the machine during this run** (load average above ${(m.cpuCount * 0.25).toFixed(1)} on ${m.cpuCount} cores; ` +
        'see the "other processes" share in each CPU split). Throughput figures are lower, and latencies higher, than a quiet machine gives; ' +
        'the baselines ran in the same conditions, so the ratios are the fairer reading.'
      : 'The machine was otherwise idle during this run (load average below a quarter of the cores).',
    '',
    'Every server under test runs in its own Node process; the load generator (autocannon) runs in the bench process. ' +
      'Each CPU split below says how the cores were shared during the measured window.',
    '',
    '## Summary',
    '',
    table(
      ['#', 'measure', 'figure', 'baseline (same run)', 'ratio', 'target', 'status'],
      headlines.map((h) => [
        String(h.id),
        h.measure,
        h.figure,
        h.baseline,
        h.ratio,
        h.target,
        h.met === undefined ? '-' : h.met ? 'met' : '**not met**',
      ]),
    ),
    '',
  ];
  const failed = scenarios.filter((s) => s.error);
  if (failed.length > 0) {
    lines.push(
      `Scenarios that could not measure: ${failed.map((s) => `${s.id} (${(s.error ?? '').split('\n')[0]})`).join('; ')}.`,
      '',
    );
  }
  lines.push(
    '## Running',
    '',
    '```sh',
    'bash scripts/services/up.sh            # MariaDB, Redis, Kafka on 127.0.0.1',
    'npm run bench                          # all scenarios (duration of the latest run above)',
    'npm run bench -- --quick               # shorter runs, 100,000 memos for search: under 3 minutes',
    'npm run bench -- --scenario 3          # one scenario (or a list: --scenario 1,4,7)',
    'npm run bench -- --profile             # also write V8 CPU profiles of the servers under test',
    '```',
    '',
    'The first run on a machine also loads the data sets: 100,000 memos for reads and 1,000,000 for search ' +
      '(`npx ts-node --transpile-only bench/load-dataset.ts 1000000` loads the latter ahead of time). ' +
      'Benchmarks, not tests: no figure fails the run. A scenario fails only when it cannot measure (a service is missing, ' +
      'a server does not start); results that disagree, such as index and scan pages, are reported, not hidden. Data sets live in their own databases (`memo_bench_*`) ' +
      'and are reused while the generator version, seed and size match.',
    '',
  );
  if (analysis !== '') lines.push(analysis, '');
  for (const s of scenarios) {
    lines.push(`## ${s.id}. ${s.title}`, '');
    if (s.output) lines.push(s.output.markdown, '');
    else lines.push(`Could not measure: \`${(s.error ?? '').split('\n')[0]}\``, '');
  }
  return `${lines.join('\n').trim()}\n`;
}
