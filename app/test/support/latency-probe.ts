import { spawn } from 'node:child_process';
import { call, Sample } from './load';

/*
 * "Another client" as its own process: it polls a few paths at a steady pace and reports every
 * sample when it is done. A reliability suite that generates an attack from the test process
 * cannot time a bystander's requests from that same process: the attack's own CPU work (building
 * bodies, parsing answers) and the test runner's garbage collection then show up as the
 * bystander's latency. Run as a script (`main` below) by `startLatencyProbe`.
 */

export interface ProbeTarget {
  /** The name its samples carry (Sample.op). */
  readonly op: string;
  readonly path: string;
  /** Milliseconds between the end of one request and the start of the next. */
  readonly everyMs: number;
}

export interface ProbeOptions {
  readonly baseUrl: string;
  readonly targets: readonly ProbeTarget[];
  /** The probe stops polling after this many milliseconds and reports. */
  readonly durationMs: number;
}

export interface RunningProbe {
  /** Resolves with every sample once the probe has run for its duration. */
  readonly samples: Promise<readonly Sample[]>;
  /** Ends the probe at once (for a test that fails before the probe is done). */
  kill(): void;
}

export function startLatencyProbe(options: ProbeOptions): RunningProbe {
  const child = spawn(
    process.execPath,
    ['--require', 'ts-node/register/transpile-only', __filename, JSON.stringify(options)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => (output += chunk));
  // The probe stops by itself; this is the bound if it cannot (a wedged child is killed).
  const deadline = setTimeout(() => child.kill('SIGKILL'), options.durationMs + 30_000);
  const samples = new Promise<readonly Sample[]>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(deadline);
      if (code === 0) resolve(JSON.parse(output) as Sample[]);
      else reject(new Error(`the latency probe exited with ${code ?? signal}: ${output.slice(0, 500)}`));
    });
  });
  return { samples, kill: () => child.kill('SIGKILL') };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function probe(options: ProbeOptions): Promise<Sample[]> {
  const samples: Sample[] = [];
  const started = performance.now();
  const until = started + options.durationMs;
  await Promise.all(
    options.targets.map(async (target) => {
      while (performance.now() < until) {
        const at = performance.now();
        const res = await call(options.baseUrl, 'GET', target.path, { timeoutMs: 15_000 });
        samples.push({
          op: target.op,
          at: at - started,
          latencyMs: performance.now() - at,
          status: res.status,
          ...(res.error ? { error: res.error } : {}),
        });
        await sleep(target.everyMs);
      }
    }),
  );
  return samples;
}

if (require.main === module) {
  probe(JSON.parse(process.argv[2]) as ProbeOptions).then(
    (samples) => process.stdout.write(JSON.stringify(samples)),
    (err: unknown) => {
      process.stderr.write(`latency probe failed: ${String(err)}\n`);
      process.exit(1);
    },
  );
}
