import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Context, REPO_ROOT, Scenario } from './lib/context';
import { renderMarkdown, RunReport, ScenarioRecord } from './lib/report';
import { startedServers, stopAllChildren } from './lib/proc';
import { summarizeProfiles } from './lib/profile';
import { cachedRead, uncachedRead } from './scenarios/reads';
import { search } from './scenarios/search';
import { writes } from './scenarios/writes';
import { zipfMix } from './scenarios/zipf';
import { synth } from './scenarios/synth';
import { memory } from './scenarios/memory';
import { tokenVerification } from './scenarios/auth';

/*
 * npm run bench [-- --quick] [-- --scenario <n>[,<n>...]] [-- --profile]
 * Benchmarks, not tests: nothing here fails on a slow figure. A scenario fails (and the run
 * exits non-zero) only when it could not measure, e.g. a service is missing or results disagree.
 */

const SCENARIOS: Scenario[] = [
  cachedRead,
  uncachedRead,
  search,
  writes,
  zipfMix,
  synth,
  memory,
  tokenVerification,
];

interface Args {
  quick: boolean;
  scenarios: number[];
  profile: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { quick: false, scenarios: [], profile: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') args.quick = true;
    else if (a === '--profile') args.profile = true;
    else if (a === '--scenario' || a.startsWith('--scenario=')) {
      const value = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      for (const n of (value ?? '').split(',')) {
        if (!/^[1-8]$/.test(n)) throw new Error(`--scenario expects numbers 1-8, got "${value}"`);
        args.scenarios.push(Number(n));
      }
    } else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: npm run bench -- [--quick] [--scenario 1,3] [--profile]\n');
      process.exit(0);
    } else throw new Error(`unknown argument "${a}" (try --help)`);
  }
  return args;
}

function sh(cmd: string): string {
  try {
    return execSync(cmd, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpuCount: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    mariadb: sh(`mariadb --protocol=tcp -h 127.0.0.1 -u root -N -e "SELECT VERSION()"`),
    innodbBufferPoolMiB:
      Number(sh(`mariadb --protocol=tcp -h 127.0.0.1 -u root -N -e "SELECT @@innodb_buffer_pool_size"`)) /
      2 ** 20,
    loadAverage: os.loadavg(),
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = new Date();
  const resultsDir = path.join(REPO_ROOT, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  // Profiles are large and not results: they go to the temporary folder, their summary to the JSON.
  const cpuProfDir = args.profile ? path.join(os.tmpdir(), `memo-bench-profiles-${stamp}`) : undefined;
  const ctx: Context = {
    quick: args.quick,
    loadSeconds: args.quick ? 5 : 15,
    seed: 42,
    resultsDir,
    cpuProfDir,
    log: (line) => process.stdout.write(`${line}\n`),
  };
  const selected =
    args.scenarios.length > 0 ? SCENARIOS.filter((s) => args.scenarios.includes(s.id)) : SCENARIOS;
  // A hung service must not hang the run: past this bound everything this run started is stopped.
  const limitMinutes = args.quick ? 8 : 30;
  const watchdog = setTimeout(() => {
    process.stderr.write(`bench: still running after ${limitMinutes} min, stopping\n`);
    void stopAllChildren().finally(() => process.exit(2));
  }, limitMinutes * 60_000);
  watchdog.unref();
  const loadBefore = os.loadavg();
  const results: ScenarioRecord[] = [];
  for (const scenario of selected) {
    ctx.log(`\n== scenario ${scenario.id}: ${scenario.title}`);
    const t0 = Date.now();
    try {
      const output = await scenario.run(ctx);
      results.push({ id: scenario.id, title: scenario.title, seconds: (Date.now() - t0) / 1000, output });
      ctx.log(output.markdown);
    } catch (err) {
      const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
      results.push({ id: scenario.id, title: scenario.title, seconds: (Date.now() - t0) / 1000, error });
      ctx.log(`scenario ${scenario.id} FAILED: ${error}`);
    } finally {
      await stopAllChildren();
    }
  }
  const loadAfter = os.loadavg();
  const profiles = cpuProfDir ? summarizeProfiles(cpuProfDir, startedServers) : undefined;
  for (const p of profiles ?? []) {
    ctx.log(
      `\nprofile ${p.server ?? '?'} (pid ${p.pid}, ${Math.round(p.totalMs)} ms): ${path.join(cpuProfDir ?? '', p.file)}`,
    );
    for (const t of p.top) ctx.log(`  ${(t.share * 100).toFixed(1).padStart(5)} %  ${t.group}`);
  }
  const file = path.join(resultsDir, `${stamp}.json`);
  const report: RunReport & { scenarios: unknown[]; profiles?: unknown[] } = {
    date: started.toISOString(),
    finished: new Date().toISOString(),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    mode: args.quick ? 'quick' : 'full',
    gitCommit: sh('git rev-parse HEAD'),
    gitDirty: sh('git status --porcelain -- app bench charts main.ts') !== '',
    machine: {
      ...machine(),
      loadAverageBefore: loadBefore,
      loadAverageAfter: loadAfter,
    } as RunReport['machine'],
    resultsFile: path.relative(REPO_ROOT, file),
    profiles,
    scenarios: results.map((r) => ({
      id: r.id,
      title: r.title,
      seconds: r.seconds,
      error: r.error,
      headlines: r.output?.headlines,
      ...r.output?.data,
    })),
  };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  ctx.log(`\nresults: ${path.relative(REPO_ROOT, file)}`);
  // A partial run must not replace the full picture: BENCHMARKS.md is the latest run of all scenarios.
  const markdown = renderMarkdown(report, results);
  if (selected.length === SCENARIOS.length) {
    writeFileSync(path.join(REPO_ROOT, 'BENCHMARKS.md'), markdown);
    ctx.log('summary: BENCHMARKS.md');
  } else {
    ctx.log('summary not written to BENCHMARKS.md (only some scenarios ran)');
  }
  if (results.some((r) => r.error)) process.exitCode = 1;
}

const onSignal = (): void => {
  void stopAllChildren().finally(() => process.exit(130));
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

main()
  .catch((err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(() => void stopAllChildren());
