import * as fs from 'fs';
import * as path from 'path';
import {
  INSTALL_HINT,
  KAFKA_LIBS_DIR,
  distProfiles,
  findProgram,
  loadDistProfile,
  type CheckReport,
  type DistProfile,
} from '../../validation/programs';

/** CI (or REQUIRE_SERVICES=1) turns a missing program into a failure instead of a skip. */
export const STRICT = process.env.CI === 'true' || process.env.REQUIRE_SERVICES === '1';

/** Every synthesized profile; an empty dist/ is a failure of its own (see `describeProfiles`). */
export const PROFILES: readonly DistProfile[] = distProfiles().map((p) => loadDistProfile(p));

/** `kafka-libs` stands for the broker classpath scripts/tools/install.sh fetches. */
function missing(programs: readonly string[]): string[] {
  return programs.filter((p) =>
    p === 'kafka-libs'
      ? !fs.existsSync(KAFKA_LIBS_DIR) ||
        !fs.readdirSync(KAFKA_LIBS_DIR).some((f) => f.startsWith('kafka_2.13-'))
      : findProgram(p) === undefined,
  );
}

/**
 * A describe block whose tests need real programs. When one is missing: under CI a test that
 * fails saying how to install it; elsewhere the block is skipped with a loud warning.
 */
export function describeWithPrograms(title: string, programs: readonly string[], body: () => void): void {
  const absent = missing(programs);
  if (absent.length === 0) {
    describe(title, () => {
      it('when dist/ is synthesized, then it holds profiles to check', () => {
        expect(PROFILES.map((p) => p.profile)).toEqual(expect.arrayContaining(['kind', 'cloud']));
      });
      body();
    });
    return;
  }
  const message = `${absent.join(', ')} not found: ${INSTALL_HINT}`;
  if (STRICT) {
    describe(title, () => {
      it('when the checks run in CI, then the programs they need are installed', () => {
        throw new Error(message);
      });
    });
    return;
  }
  console.warn(`SKIPPED "${title}": ${message}`);
  describe.skip(title, body);
}

/** Profiles grouped by a key (usually the config text): the check runs once per distinct one. */
export function distinctBy(
  key: (dist: DistProfile) => string | undefined,
): Array<{ names: string; dist: DistProfile }> {
  const groups = new Map<string, DistProfile[]>();
  for (const dist of PROFILES) {
    const k = key(dist);
    if (k === undefined) continue;
    groups.set(k, [...(groups.get(k) ?? []), dist]);
  }
  return [...groups.values()].map((g) => ({ names: g.map((d) => d.profile).join('+'), dist: g[0] }));
}

export function profile(name: string): DistProfile {
  const found = PROFILES.find((p) => p.profile === name);
  if (found === undefined) throw new Error(`dist/${name} not found: run npm run synth`);
  return found;
}

const timings: string[] = [];

/** Keeps a passing check's timing for the summary printed after the suite. */
export function record(label: string, report: CheckReport): CheckReport {
  timings.push(
    `${(report.ms / 1000).toFixed(1).padStart(6)} s  ${label} (${report.program}; overrides: ${report.overrides.join(', ') || 'none'})`,
  );
  return report;
}

afterAll(() => {
  if (timings.length > 0) console.info(`real-program checks:\n${timings.join('\n')}`);
});

export function relative(file: string): string {
  return path.relative(process.cwd(), file);
}
