import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  availableVersions,
  claimsApiServerOrigin,
  ManifestSet,
  resolveSchemasDir,
  type ManifestObject,
  RULE_ORIGINS,
  validateDocuments,
  type Finding,
  type SourceFile,
} from '../../validation';
import { layout, up } from '../cluster/control-plane';
import { deleteNamespace, dryRun, kubectlResult } from '../cluster/rollout';
import { DIST, DIST_MUTATIONS } from '../validation/corpus/dist-mutations';
import { ESCAPE_HATCHES, synthesized } from '../validation/corpus/escape-hatches';
import { RULE_CASES } from '../validation/corpus/rule-fixtures';
import { HAND_WRITTEN } from '../validation/helpers';

/*
 * The validator measured against the real API server. Every case of the mutation corpus (the
 * rule fixtures, the dist/ mutations, the escape-hatch patches) goes through the validator and,
 * as the objects it changes, through `kubectl apply --server-side --dry-run=server` into a
 * namespace with Pod Security restricted. A rule that claims the API server's origin must be
 * refused there too; every other rule reports what the API server rightly accepts. A case that
 * does neither is listed in DISAGREEMENTS with the reason, or the test fails.
 */

const NAMESPACE = 'memo';
const l = layout(process.env.K8S_VERSION);
const built = existsSync(path.join(l.binDir, 'kube-apiserver'));
const required = process.env.CI === 'true' || process.env.REQUIRE_SERVICES === '1';

type Outcome = 'both reject' | 'only the validator' | 'only the API server' | 'both accept';

interface CorpusCase {
  readonly id: string;
  readonly rule: string;
  readonly before: () => readonly SourceFile[];
  readonly after: () => readonly SourceFile[];
}

/**
 * Cases whose outcome differs from what their rule's origin predicts, each with why. An entry
 * that no longer disagrees fails the test, so the list cannot go stale.
 */
const DISAGREEMENTS: Readonly<Record<string, { outcome: Outcome; why: string }>> = {
  'rule fixture: API-NAMES: a StatefulSet name is longer than 52 characters': {
    outcome: 'only the validator',
    why:
      'the API server accepts any DNS label (63 characters) as a StatefulSet name; the StatefulSet ' +
      'controller then labels each pod controller-revision-hash=<name>-<10-character hash>, a label ' +
      'value over 63 characters, and its pod creates fail (a controller limit, reported by API-NAMES ' +
      'because the name is what to fix)',
  },
};

const handWritten = () => ManifestSet.fromDirectory(HAND_WRITTEN);
const distProfile = (profile: string) => ManifestSet.fromDirectory(path.join(DIST, profile));

function corpus(): CorpusCase[] {
  return [
    ...RULE_CASES.map((c) => ({
      id: `rule fixture: ${c.rule}: ${c.when}`,
      rule: c.rule,
      before: () => handWritten().sources,
      after: () => c.mutate(handWritten()).sources,
    })),
    ...DIST_MUTATIONS.map((m) => {
      const after = distProfile(m.profile);
      const { rule } = m.mutate(after);
      return {
        id: `dist mutation: ${rule}: ${m.when} (${m.profile})`,
        rule,
        before: () => distProfile(m.profile).sources,
        after: () => after.sources,
      };
    }),
    ...ESCAPE_HATCHES.map(([label, patch, where]) => ({
      id: `escape hatch: ${where.rule}: ${label}`,
      rule: where.rule,
      before: () => synthesized(() => undefined),
      after: () => synthesized(patch),
    })),
  ];
}

/** The objects an API server would be sent: a kustomization.yaml is kustomize's input, not an object. */
function apiObjects(sources: readonly SourceFile[]): ManifestObject[] {
  return new ManifestSet(sources)
    .objects()
    .filter((o) => !String(o.value.apiVersion).startsWith('kustomize.config.k8s.io/'));
}

/** Objects by `Kind namespace/name`, as JSON text, so changed objects can be told apart. */
function objectsByKey(sources: readonly SourceFile[]): Map<string, { text: string; value: unknown }> {
  return new Map(
    apiObjects(sources).map((o) => [
      `${o.kind} ${o.namespace}/${o.name}`,
      { text: JSON.stringify(o.value), value: o.value },
    ]),
  );
}

function changedObjects(before: readonly SourceFile[], after: readonly SourceFile[]): unknown[] {
  const old = objectsByKey(before);
  return [...objectsByKey(after)].filter(([key, o]) => old.get(key)?.text !== o.text).map(([, o]) => o.value);
}

const findingKey = (f: Finding) => `${f.rule} ${f.file} ${f.object} ${f.path} ${f.message}`;

/** The newest schema version the validator has that is not newer than the cluster. */
function validatorVersion(): string {
  const dir = resolveSchemasDir();
  if (!dir) throw new Error('no Kubernetes schemas: the agreement needs them');
  const minor = Number(/^v1\.(\d+)\./.exec(l.version)?.[1]);
  const fitting = availableVersions(dir).filter((v) => Number(v.split('.')[1]) <= minor);
  return fitting[fitting.length - 1];
}

interface Row {
  readonly id: string;
  readonly rule: string;
  readonly outcome: Outcome;
  readonly validator: string;
  readonly apiServer: string;
}

function judge(c: CorpusCase, version: string, baselineErrors: Map<string, Set<string>>): Row | undefined {
  const before = c.before();
  const after = c.after();
  const objects = changedObjects(before, after);
  // A case that changes no object (a kustomization listing, a file's text) is nothing the API server sees.
  if (objects.length === 0) return undefined;

  const baseKey = before.map((s) => s.file).join('|');
  if (!baselineErrors.has(baseKey)) {
    const errors = validateDocuments(before, {
      k8sVersions: [version],
      requireSchemas: true,
    }).findings.filter((f) => f.severity === 'error');
    baselineErrors.set(baseKey, new Set(errors.map(findingKey)));
  }
  const known = baselineErrors.get(baseKey)!;
  const findings = validateDocuments(after, { k8sVersions: [version], requireSchemas: true }).findings.filter(
    (f) => !known.has(findingKey(f)),
  );
  // The verdict is the case's own rule; other findings the edit causes are shown, not counted.
  const own = findings.filter((f) => f.rule === c.rule);
  const errors = own.filter((f) => f.severity === 'error');
  const warnings = own.filter((f) => f.severity === 'warning');
  const collateral = findings.filter((f) => f.rule !== c.rule && f.severity === 'error');

  const report = dryRun(l, NAMESPACE, objects);
  const refusals = [...report.rejected, ...report.podSecurityWarnings];
  const validatorRejects = errors.length > 0;
  const apiRejects = refusals.length > 0;
  const outcome: Outcome = validatorRejects
    ? apiRejects
      ? 'both reject'
      : 'only the validator'
    : apiRejects
      ? 'only the API server'
      : 'both accept';
  const describe = (list: Finding[]) => list.map((f) => `${f.rule} ${f.path}: ${f.message}`).join('; ');
  return {
    id: c.id,
    rule: c.rule,
    outcome,
    validator:
      (errors.length > 0 ? describe(errors) : warnings.length > 0 ? `warns ${describe(warnings)}` : '') +
      (collateral.length > 0 ? ` (also ${describe(collateral)})` : ''),
    apiServer: refusals.map((s) => s.replace(/^Error from server \([A-Za-z]+\): /, '')).join('; '),
  };
}

function expectedOutcome(row: Row): Outcome {
  const explained = DISAGREEMENTS[row.id];
  if (explained) return explained.outcome;
  if (row.validator.startsWith('warns ')) return 'both accept';
  return claimsApiServerOrigin(row.rule) ? 'both reject' : 'only the validator';
}

if (!built) {
  const message = `the control plane ${l.version} is not built in ${l.binDir}: run npm run setup (test/cluster/build.sh)`;
  if (required) {
    describe('e2e: the validator against the real API server', () => {
      it('when the control plane is not built in CI, then the suite fails', () => {
        throw new Error(message);
      });
    });
  } else {
    console.warn(`\n*** SKIPPED *** validator agreement: ${message}\n`);
  }
}

(built ? describe : describe.skip)(
  `e2e: the validator against the real API server (Kubernetes ${l.version})`,
  () => {
    beforeAll(async () => {
      await up(l);
      await deleteNamespace(l, NAMESPACE);
      const created = kubectlResult(l, ['create', 'namespace', NAMESPACE]);
      if (created.status !== 0) throw new Error(`create namespace ${NAMESPACE}: ${created.stderr}`);
    }, 180_000);

    afterAll(async () => {
      await deleteNamespace(l, NAMESPACE);
    }, 180_000);

    it('when the unbroken manifests of each corpus are dry-run, then the API server accepts every object', () => {
      const baselines = {
        'hand-written': handWritten().sources,
        'dist/kind': distProfile('kind').sources,
        'dist/cloud': distProfile('cloud').sources,
        'escape-hatch synth': synthesized(() => undefined),
      };
      for (const [name, sources] of Object.entries(baselines)) {
        const objects = apiObjects(sources).map((o) => o.value);
        const report = dryRun(l, NAMESPACE, objects);
        expect({ name, rejected: report.rejected, podSecurity: report.podSecurityWarnings }).toEqual({
          name,
          rejected: [],
          podSecurity: [],
        });
        expect(report.applied).toBe(objects.length);
      }
    });

    it('when every corpus case goes through the validator and the API server, then they agree wherever the rule claims the API server', () => {
      const version = validatorVersion();
      const baselineErrors = new Map<string, Set<string>>();
      const rows = corpus()
        .map((c) => judge(c, version, baselineErrors))
        .filter((r): r is Row => r !== undefined);

      for (const r of rows)
        console.log(
          `AGREEMENT ${r.outcome} | ${r.id} | validator: ${r.validator || '-'} | API server: ${r.apiServer || '-'}`,
        );
      const outcomes: Outcome[] = ['both reject', 'only the validator', 'only the API server', 'both accept'];
      const byOrigin: Record<string, Record<Outcome, number>> = {};
      for (const r of rows) {
        const origin = RULE_ORIGINS[r.rule];
        byOrigin[origin] ??= Object.fromEntries(outcomes.map((o) => [o, 0])) as Record<Outcome, number>;
        byOrigin[origin][r.outcome]++;
      }
      const totals = Object.fromEntries(outcomes.map((o) => [o, rows.filter((r) => r.outcome === o).length]));
      console.log(
        `AGREEMENT-TABLE ${l.version} validator ${version} ${JSON.stringify({ cases: rows.length, ...totals, byOrigin })}`,
      );

      expect(rows.length).toBeGreaterThan(60);
      const unexplained = rows
        .filter((r) => r.outcome !== expectedOutcome(r))
        .map((r) => ({ ...r, expected: expectedOutcome(r) }));
      expect(unexplained).toEqual([]);
      const stale = Object.keys(DISAGREEMENTS).filter((id) => !rows.some((r) => r.id === id));
      expect(stale).toEqual([]);
    }, 600_000);
  },
);
