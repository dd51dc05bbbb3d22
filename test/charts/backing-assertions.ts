/**
 * Assertions shared by the backing-construct tests (mariadb, redis, kafka): what every pod
 * template of this library must satisfy.
 */
import { Chart, Testing } from 'cdk8s';

// Synthesized manifests are plain JSON; their shape is asserted, not typed.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Manifest = { kind: string; metadata: { name: string; [key: string]: any }; [key: string]: any };

export function synth(chart: Chart): Manifest[] {
  return Testing.synth(chart) as Manifest[];
}

export function find(manifests: Manifest[], kind: string, name: string): Manifest {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (found === undefined) {
    const present = manifests.map((m) => `${m.kind}/${m.metadata.name}`).join(', ');
    throw new Error(`no ${kind}/${name} among: ${present}`);
  }
  return found;
}

export function names(manifests: Manifest[], kind: string): string[] {
  return manifests
    .filter((m) => m.kind === kind)
    .map((m) => m.metadata.name)
    .sort();
}

/** Every pod template, with the kind and name of its owner. */
export function podTemplates(
  manifests: Manifest[],
): Array<{ owner: string; long: boolean; spec: Manifest['spec'] }> {
  const out: Array<{ owner: string; long: boolean; spec: Manifest['spec'] }> = [];
  for (const m of manifests) {
    const owner = `${m.kind}/${m.metadata.name}`;
    if (m.kind === 'StatefulSet' || m.kind === 'Deployment') {
      out.push({ owner, long: true, spec: m.spec.template.spec });
    } else if (m.kind === 'Job') {
      out.push({ owner, long: false, spec: m.spec.template.spec });
    } else if (m.kind === 'CronJob') {
      out.push({ owner, long: false, spec: m.spec.jobTemplate.spec.template.spec });
    }
  }
  return out;
}

/**
 * Pod Security "restricted" plus this library's own rules: non-root with an explicit uid,
 * read-only root filesystem, no token, requests and a memory limit, a pinned image pulled
 * IfNotPresent, and readiness + liveness probes on long-running containers.
 */
export function expectProductionReadyPods(manifests: Manifest[]): void {
  const templates = podTemplates(manifests);
  expect(templates.length).toBeGreaterThan(0);
  for (const { owner, long, spec } of templates) {
    const context = `${owner}`;
    expect({ context, automount: spec.automountServiceAccountToken }).toEqual({ context, automount: false });
    const pod = spec.securityContext;
    expect({ context, pod: pod.runAsNonRoot, seccomp: pod.seccompProfile?.type }).toEqual({
      context,
      pod: true,
      seccomp: 'RuntimeDefault',
    });
    expect(pod.runAsUser).toBeGreaterThan(0);
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
      const where = `${owner} container ${c.name}`;
      const sc = c.securityContext;
      expect({ where, sc }).toMatchObject({
        where,
        sc: {
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          capabilities: { drop: ['ALL'] },
          seccompProfile: { type: 'RuntimeDefault' },
        },
      });
      expect((sc.runAsUser ?? pod.runAsUser) > 0).toBe(true);
      expect({ where, image: c.image }).toEqual({
        where,
        image: expect.stringMatching(/^[^:]+(\/[^:]+)*:[\w][\w.-]*$/),
      });
      expect(c.image).not.toMatch(/:latest$/);
      expect({ where, pull: c.imagePullPolicy }).toEqual({ where, pull: 'IfNotPresent' });
      expect({ where, r: c.resources }).toEqual({
        where,
        r: {
          requests: { cpu: expect.stringMatching(/^\d+m$/), memory: expect.stringMatching(/^\d+Mi$/) },
          limits: { memory: expect.stringMatching(/^\d+Mi$/) },
        },
      });
      if (long) {
        expect({
          where,
          readiness: c.readinessProbe !== undefined,
          liveness: c.livenessProbe !== undefined,
        }).toEqual({
          where,
          readiness: true,
          liveness: true,
        });
      }
    }
  }
}

/** No environment variable that looks like a credential carries a literal value. */
export function expectNoLiteralSecrets(manifests: Manifest[]): void {
  for (const { owner, spec } of podTemplates(manifests)) {
    for (const c of spec.containers) {
      for (const e of c.env ?? []) {
        if (/PASS|PWD|AUTH|SECRET|TOKEN/.test(e.name)) {
          expect({
            owner,
            name: e.name,
            value: e.value,
            ref: e.valueFrom?.secretKeyRef !== undefined,
          }).toEqual({
            owner,
            name: e.name,
            value: undefined,
            ref: true,
          });
        }
      }
    }
  }
  expect(manifests.filter((m) => m.kind === 'Secret')).toEqual([]);
}

/** Every secretKeyRef in the pod templates, as `secret/key`. */
export function secretRefs(manifests: Manifest[]): string[] {
  const refs = new Set<string>();
  for (const { spec } of podTemplates(manifests)) {
    for (const c of spec.containers) {
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef;
        if (ref !== undefined) refs.add(`${ref.name}/${ref.key}`);
      }
    }
  }
  return [...refs].sort();
}

export function container(statefulSet: Manifest, name: string): Manifest['spec'] {
  const c = statefulSet.spec.template.spec.containers.find((x: { name: string }) => x.name === name);
  if (c === undefined) throw new Error(`no container ${name} in ${statefulSet.metadata.name}`);
  return c;
}

export function envOf(c: {
  env?: Array<{ name: string; value?: string }>;
}): Record<string, string | undefined> {
  return Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
}
