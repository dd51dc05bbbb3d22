import * as path from 'path';
import { Finding, ManifestSet } from '../../validation';
import type { Editable } from '../../validation/manifest-set';

/**
 * Mutation tests: break one thing in the real synthesized manifests and expect exactly the
 * finding it should cause, at the right file, object and field path. A validator that stays
 * quiet, or that drowns the real defect in collateral findings, fails here.
 */
const DIST = path.resolve(__dirname, '../../dist');
const VERSIONS = ['1.30'];

function errorsAfter(profile: string, mutate: (set: ManifestSet) => void): Finding[] {
  const set = ManifestSet.fromDirectory(path.join(DIST, profile));
  mutate(set);
  return set
    .validate({ k8sVersions: VERSIONS, requireSchemas: true })
    .findings.filter((f) => f.severity === 'error');
}

function summary(f: Finding): { rule: string; file: string; object: string; path: string } {
  return { rule: f.rule, file: path.basename(f.file), object: f.object, path: f.path };
}

const apiContainer = (o: Editable): Editable => o.spec.template.spec.containers[0];
const envIndex = (container: Editable, name: string): number =>
  (container.env as Editable[]).findIndex((e) => e.name === name);

describe('mutations of the real manifests', () => {
  it('when the unmutated kind profile is validated, then it has no errors (the baseline of every case below)', () => {
    expect(errorsAfter('kind', () => undefined).map(summary)).toEqual([]);
  });

  it('when the memo-api selector no longer matches its pod template, then API-SELECTOR names the selector', () => {
    const errors = errorsAfter('kind', (set) =>
      set.mutate('Deployment', 'memo-api', (o) => {
        o.spec.selector.matchLabels['app.kubernetes.io/component'] = 'apx';
      }),
    );
    expect(errors.map(summary)).toEqual([
      {
        rule: 'API-SELECTOR',
        file: 'Deployment.memo-api.k8s.yaml',
        object: 'Deployment memo/memo-api',
        path: 'spec.template.metadata.labels',
      },
    ]);
  });

  it('when a container port name is longer than 15 characters, then API-PORTS names that port', () => {
    const errors = errorsAfter('kind', (set) =>
      set.mutate('Deployment', 'memo-api', (o) => {
        apiContainer(o).ports.push({ name: 'metrics-exporter-http', containerPort: 9999 });
      }),
    );
    expect(errors.map(summary)).toEqual([
      {
        rule: 'API-PORTS',
        file: 'Deployment.memo-api.k8s.yaml',
        object: 'Deployment memo/memo-api',
        path: 'spec.template.spec.containers[0].ports[1].name',
      },
    ]);
  });

  it('when an env var is declared twice, then API-LISTMAP names the duplicate', () => {
    let duplicateIndex = -1;
    const errors = errorsAfter('kind', (set) =>
      set.mutate('Deployment', 'memo-api', (o) => {
        const env = apiContainer(o).env as Editable[];
        env.push(structuredClone(env[0]));
        duplicateIndex = env.length - 1;
      }),
    );
    expect(errors.map(summary)).toEqual([
      {
        rule: 'API-LISTMAP',
        file: 'Deployment.memo-api.k8s.yaml',
        object: 'Deployment memo/memo-api',
        path: `spec.template.spec.containers[0].env[${duplicateIndex}].name`,
      },
    ]);
  });

  it('when a probe has two handlers, then API-PROBES names the probe', () => {
    const errors = errorsAfter('kind', (set) =>
      set.mutate('Deployment', 'memo-api', (o) => {
        apiContainer(o).readinessProbe.tcpSocket = { port: 3000 };
      }),
    );
    expect(errors.map(summary)).toEqual([
      {
        rule: 'API-PROBES',
        file: 'Deployment.memo-api.k8s.yaml',
        object: 'Deployment memo/memo-api',
        path: 'spec.template.spec.containers[0].readinessProbe.tcpSocket',
      },
    ]);
  });

  it('when a memory request exceeds its limit, then API-RESOURCES names the request', () => {
    const errors = errorsAfter('kind', (set) =>
      set.mutate('Deployment', 'memo-api', (o) => {
        apiContainer(o).resources.requests.memory = '2Gi';
      }),
    );
    expect(errors.map(summary)).toEqual([
      {
        rule: 'API-RESOURCES',
        file: 'Deployment.memo-api.k8s.yaml',
        object: 'Deployment memo/memo-api',
        path: 'spec.template.spec.containers[0].resources.requests.memory',
      },
    ]);
  });

  it('when a secretKeyRef names a key the Secret lacks, then XREF-REFS names the key', () => {
    let index = -1;
    const errors = errorsAfter('kind', (set) =>
      set.mutate('Deployment', 'memo-api', (o) => {
        index = envIndex(apiContainer(o), 'DB_PASSWORD');
        apiContainer(o).env[index].valueFrom.secretKeyRef.key = 'passwrd';
      }),
    );
    expect(errors.map(summary)).toEqual([
      {
        rule: 'XREF-REFS',
        file: 'Deployment.memo-api.k8s.yaml',
        object: 'Deployment memo/memo-api',
        path: `spec.template.spec.containers[0].env[${index}].valueFrom.secretKeyRef.key`,
      },
    ]);
  });

  it('when the API settings name a database Service that does not exist, then XREF-DNS names the setting', () => {
    const errors = errorsAfter('kind', (set) =>
      set.mutate('ConfigMap', 'memo-api-config', (o) => {
        o.data.DB_HOST = 'memo-mariadbb';
      }),
    );
    expect(errors.map(summary)).toEqual([
      {
        rule: 'XREF-DNS',
        file: 'ConfigMap.memo-api-config.k8s.yaml',
        object: 'ConfigMap memo/memo-api-config',
        path: 'data[DB_HOST]',
      },
    ]);
  });

  it('when the Kafka quorum lists fewer voters than nodes, then KAFKA-QUORUM names the voters setting', () => {
    let index = -1;
    const errors = errorsAfter('cloud', (set) =>
      set.mutate('StatefulSet', 'memo-kafka', (o) => {
        const kafka = (o.spec.template.spec.containers as Editable[]).find(
          (c) => c.name === 'kafka',
        ) as Editable;
        index = envIndex(kafka, 'KAFKA_CONTROLLER_QUORUM_VOTERS');
        kafka.env[index].value = (kafka.env[index].value as string).split(',').slice(0, 2).join(',');
      }),
    ).filter((f) => f.rule !== 'XREF-REFS'); // the cloud profile's Secrets are external (exemptions are not applied here)
    expect(errors.map(summary)).toEqual([
      {
        rule: 'KAFKA-QUORUM',
        file: 'StatefulSet.memo-kafka.k8s.yaml',
        object: 'StatefulSet memo/memo-kafka',
        path: `spec.template.spec.containers[0].env[${index}].value`,
      },
    ]);
  });
});
