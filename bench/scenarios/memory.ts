import { fmt, Scenario, ScenarioOutput, table } from '../lib/context';
import { memorySamples } from '../lib/memory';

/** Peak RSS (VmHWM) of the processes of scenarios 1 and 4, read just before each was stopped. */
export const memory: Scenario = {
  id: 7,
  title: 'Memory: peak RSS of the service',
  async run(): Promise<ScenarioOutput> {
    if (memorySamples.length === 0) {
      return {
        data: { samples: [] },
        markdown:
          'No samples: peak RSS is taken during scenarios 1 and 4; run them in the same invocation (e.g. `--scenario 1,4,7`).',
      };
    }
    const markdown = [
      '`VmHWM` (peak resident set since the process started) and `VmRSS` from `/proc/<pid>/status`, read at the end of each phase; ' +
        'each phase runs in a fresh process, so the peak belongs to that phase (its warm-up included). ' +
        'Every server runs under `ts-node --transpile-only`, which keeps the TypeScript compiler in memory: that is part of the bare Koa ' +
        "baseline too, so the difference between the two is the service's own (knex, ioredis, kafkajs, prom-client, its caches and buffers).",
      '',
      table(
        ['scenario', 'process', 'peak RSS MiB', 'RSS at end MiB'],
        memorySamples.map((s) => [String(s.scenario), s.process, fmt(s.peakRssMiB, 1), fmt(s.rssMiB, 1)]),
      ),
    ].join('\n');
    return {
      data: { samples: memorySamples },
      headlines: memorySamples
        .filter((s) => s.process.startsWith('memo service'))
        .map((s) => ({
          measure: `peak RSS, ${s.process} (scenario ${s.scenario})`,
          figure: `${fmt(s.peakRssMiB, 0)} MiB`,
          baseline:
            s.scenario === 1
              ? `bare Koa ceiling ${fmt(memorySamples.find((m) => m.process === 'bare Koa ceiling')?.peakRssMiB ?? NaN, 0)} MiB`
              : '-',
          ratio: '-',
          target: '-',
        })),
      markdown,
    };
  },
};
