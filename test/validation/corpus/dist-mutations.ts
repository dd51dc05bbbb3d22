import * as path from 'path';
import type { Editable, ManifestSet } from '../../../validation/manifest-set';

/*
 * Mutations of the real synthesized manifests: each breaks one thing in a dist/ profile and
 * returns the one finding it must cause. dist-mutations.test.ts checks the validator against
 * them; the e2e agreement test sends the same edits to a real API server.
 */

export const DIST = path.resolve(__dirname, '../../../dist');

export interface ExpectedFinding {
  readonly rule: string;
  /** Base name of the file. */
  readonly file: string;
  readonly object: string;
  readonly path: string;
}

export interface DistMutation {
  readonly when: string;
  readonly profile: string;
  /** Breaks one thing in the set and returns the finding that names it. */
  readonly mutate: (set: ManifestSet) => ExpectedFinding;
  /** Errors of this rule the profile has by design and the mutation does not touch. */
  readonly unrelatedRule?: { readonly rule: string; readonly why: string };
}

const apiContainer = (o: Editable): Editable => o.spec.template.spec.containers[0];
const envIndex = (container: Editable, name: string): number =>
  (container.env as Editable[]).findIndex((e) => e.name === name);
const API = { file: 'Deployment.memo-api.k8s.yaml', object: 'Deployment memo/memo-api' };

export const DIST_MUTATIONS: readonly DistMutation[] = [
  {
    when: 'the memo-api selector no longer matches its pod template',
    profile: 'kind',
    mutate: (set) => {
      set.mutate('Deployment', 'memo-api', (o) => {
        o.spec.selector.matchLabels['app.kubernetes.io/component'] = 'apx';
      });
      return { rule: 'API-SELECTOR', ...API, path: 'spec.template.metadata.labels' };
    },
  },
  {
    when: 'a container port name is longer than 15 characters',
    profile: 'kind',
    mutate: (set) => {
      let index = -1;
      set.mutate('Deployment', 'memo-api', (o) => {
        index = apiContainer(o).ports.push({ name: 'metrics-exporter-http', containerPort: 9999 }) - 1;
      });
      return { rule: 'API-PORTS', ...API, path: `spec.template.spec.containers[0].ports[${index}].name` };
    },
  },
  {
    when: 'an env var is declared twice',
    profile: 'kind',
    mutate: (set) => {
      let duplicate = -1;
      set.mutate('Deployment', 'memo-api', (o) => {
        const env = apiContainer(o).env as Editable[];
        env.push(structuredClone(env[0]));
        duplicate = env.length - 1;
      });
      return { rule: 'API-LISTMAP', ...API, path: `spec.template.spec.containers[0].env[${duplicate}].name` };
    },
  },
  {
    when: 'a probe has two handlers',
    profile: 'kind',
    mutate: (set) => {
      set.mutate('Deployment', 'memo-api', (o) => {
        apiContainer(o).readinessProbe.tcpSocket = { port: 3000 };
      });
      return {
        rule: 'API-PROBES',
        ...API,
        path: 'spec.template.spec.containers[0].readinessProbe.tcpSocket',
      };
    },
  },
  {
    when: 'a memory request exceeds its limit',
    profile: 'kind',
    mutate: (set) => {
      set.mutate('Deployment', 'memo-api', (o) => {
        // Above the 256Mi limit, and still inside the namespace quota (XREF-QUOTA stays quiet).
        apiContainer(o).resources.requests.memory = '300Mi';
      });
      return {
        rule: 'API-RESOURCES',
        ...API,
        path: 'spec.template.spec.containers[0].resources.requests.memory',
      };
    },
  },
  {
    when: 'a secretKeyRef names a key the Secret lacks',
    profile: 'kind',
    mutate: (set) => {
      let index = -1;
      set.mutate('Deployment', 'memo-api', (o) => {
        index = envIndex(apiContainer(o), 'DB_PASSWORD');
        apiContainer(o).env[index].valueFrom.secretKeyRef.key = 'passwrd';
      });
      return {
        rule: 'XREF-REFS',
        ...API,
        path: `spec.template.spec.containers[0].env[${index}].valueFrom.secretKeyRef.key`,
      };
    },
  },
  {
    when: 'the API settings name a database Service that does not exist',
    profile: 'kind',
    mutate: (set) => {
      set.mutate('ConfigMap', 'memo-api-config', (o) => {
        o.data.DB_HOST = 'memo-mariadbb';
      });
      return {
        rule: 'XREF-DNS',
        file: 'ConfigMap.memo-api-config.k8s.yaml',
        object: 'ConfigMap memo/memo-api-config',
        path: 'data[DB_HOST]',
      };
    },
  },
  {
    when: 'the Kafka quorum lists fewer voters than nodes',
    profile: 'cloud',
    unrelatedRule: {
      rule: 'XREF-REFS',
      why: 'the cloud profile expects its Secrets from outside (exemptions are not applied here)',
    },
    mutate: (set) => {
      let index = -1;
      set.mutate('StatefulSet', 'memo-kafka', (o) => {
        const kafka = (o.spec.template.spec.containers as Editable[]).find((c) => c.name === 'kafka')!;
        index = envIndex(kafka, 'KAFKA_CONTROLLER_QUORUM_VOTERS');
        kafka.env[index].value = (kafka.env[index].value as string).split(',').slice(0, 2).join(',');
      });
      return {
        rule: 'KAFKA-QUORUM',
        file: 'StatefulSet.memo-kafka.k8s.yaml',
        object: 'StatefulSet memo/memo-kafka',
        path: `spec.template.spec.containers[0].env[${index}].value`,
      };
    },
  },
  {
    when: 'the quota leaves no room for the API at its HPA maximum during a rollout',
    profile: 'cloud',
    unrelatedRule: {
      rule: 'XREF-REFS',
      why: 'the cloud profile expects its Secrets from outside (exemptions are not applied here)',
    },
    mutate: (set) => {
      set.mutate('ResourceQuota', 'memo-quota', (o) => {
        o.spec.hard.pods = '20';
      });
      return {
        rule: 'XREF-QUOTA',
        file: 'ResourceQuota.memo-quota.k8s.yaml',
        object: 'ResourceQuota memo/memo-quota',
        path: 'spec.hard.pods',
      };
    },
  },
  {
    when: "the LimitRange's max is below a container's memory limit (Kafka's 1 GiB)",
    profile: 'kind',
    mutate: (set) => {
      set.mutate('LimitRange', 'memo-limits', (o) => {
        o.spec.limits[0].max.memory = '512Mi';
      });
      return {
        rule: 'XREF-QUOTA',
        file: 'LimitRange.memo-limits.k8s.yaml',
        object: 'LimitRange memo/memo-limits',
        path: 'spec.limits[0].max.memory',
      };
    },
  },
];
