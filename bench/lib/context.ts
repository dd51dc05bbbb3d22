import path from 'node:path';

export interface Context {
  readonly quick: boolean;
  /** Seconds of each measured load run. */
  readonly loadSeconds: number;
  readonly seed: number;
  readonly resultsDir: string;
  /** Set by --profile: servers under test write V8 CPU profiles here. */
  readonly cpuProfDir?: string;
  log(line: string): void;
}

/** One line of the summary table at the top of BENCHMARKS.md. */
export interface Headline {
  readonly measure: string;
  readonly figure: string;
  readonly baseline: string;
  readonly ratio: string;
  readonly target: string;
  /** undefined: no target for this line. */
  readonly met?: boolean;
}

export interface ScenarioOutput {
  /** Machine-readable figures for the JSON result. */
  readonly data: Record<string, unknown>;
  readonly headlines?: readonly Headline[];
  /** The scenario's section of BENCHMARKS.md (markdown, without its heading). */
  readonly markdown: string;
}

export interface Scenario {
  readonly id: number;
  readonly title: string;
  run(ctx: Context): Promise<ScenarioOutput>;
}

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Formats a number for the report: thousands separators, fixed decimals. */
export function fmt(value: number, decimals = 0): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function verdict(ok: boolean): string {
  return ok ? 'met' : '**not met**';
}

/** "server 0.95 · load generator 0.80 · ..." in cores of the machine, for the report. */
export function cpuText(cpu: {
  seconds: number;
  server: number;
  loadGenerator: number;
  mariadb: number;
  redis: number;
  kafka: number;
  other: number;
  cores: number;
}): string {
  // /proc tick accounting is lazy on a tickless kernel: over a second or two the shares can
  // add up to more than the machine has, so short windows are not split at all.
  if (cpu.seconds < 3)
    return `not split (a ${fmt(cpu.seconds, 1)} s window is too short for /proc tick accounting)`;
  const parts = [
    `server ${fmt(cpu.server, 2)}`,
    `load generator ${fmt(cpu.loadGenerator, 2)}`,
    `MariaDB ${fmt(cpu.mariadb, 2)}`,
    `Redis ${fmt(cpu.redis, 2)}`,
  ];
  if (cpu.kafka > 0.005) parts.push(`Kafka ${fmt(cpu.kafka, 2)}`);
  parts.push(`other processes ${fmt(cpu.other, 2)}`);
  return `${parts.join(' · ')} (cores of ${cpu.cores}, ${fmt(cpu.seconds, 0)} s window)`;
}

/**
 * A warning when a figure and its baseline saw different amounts of other work on the machine:
 * their ratio then says as much about the neighbours as about the code.
 */
export function contentionNote(
  a: { other: number; seconds: number },
  b: { other: number; seconds: number },
): string[] {
  if (a.seconds < 3 || b.seconds < 3 || Math.abs(a.other - b.other) <= 0.25) return [];
  return [
    `- **Uneven conditions:** other processes used ${fmt(a.other, 2)} vs ${fmt(b.other, 2)} cores in the two runs compared here; ` +
      'read this comparison with care (a quiet machine gives a fairer one).',
  ];
}
