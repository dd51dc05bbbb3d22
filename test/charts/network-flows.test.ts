import { Testing } from 'cdk8s';
import { MemoStack } from '../../charts/memo-stack';
import { Profile, PROFILES } from '../../charts/profiles';
import { canConnect, podsOf, PodRef } from './network-reach';

/**
 * Every flow the stack's NetworkPolicies allow, in each profile, evaluated with NetworkPolicy
 * semantics (network-reach.ts) over every pair of pods and every port the destination declares:
 * the list must be exactly the flows the design wires (clients to their services, Prometheus to
 * each metrics port, Grafana to Prometheus, the ingress controller to the API's HTTP port,
 * cluster members to each other), so a rule that opens one flow too many fails here.
 */

const common = [
  'CronJob/memo-mariadb-backup -> StatefulSet/memo-mariadb:3306',
  'StatefulSet/memo-kafka -> StatefulSet/memo-kafka:9092',
  'StatefulSet/memo-kafka -> StatefulSet/memo-kafka:9093',
  'Job/memo-kafka-topic-memo-events -> StatefulSet/memo-kafka:9092',
  'Deployment/memo-api -> StatefulSet/memo-mariadb:3306',
  'Deployment/memo-api -> StatefulSet/memo-redis:6379',
  'Deployment/memo-api -> StatefulSet/memo-kafka:9092',
  'Deployment/memo-prometheus -> StatefulSet/memo-mariadb:9104',
  'Deployment/memo-prometheus -> StatefulSet/memo-redis:9121',
  'Deployment/memo-prometheus -> StatefulSet/memo-kafka:9308',
  'Deployment/memo-prometheus -> Deployment/memo-api:9464',
  'Deployment/memo-prometheus -> Deployment/memo-alertmanager:9093',
  'Deployment/memo-grafana -> Deployment/memo-prometheus:9090',
  'ingress controller -> Deployment/memo-api:3000',
];
const EXPECTED: Record<string, string[]> = {
  kind: common,
  k3d: common,
  // Replicas copy from the primary.
  cloud: ['StatefulSet/memo-mariadb -> StatefulSet/memo-mariadb:3306', ...common],
};

function allowedFlows(profile: Profile): string[] {
  const manifests = Testing.synth(new MemoStack(Testing.app(), 'memo', { profile }));
  const pods = podsOf(manifests);
  const outsiders: PodRef[] = [
    {
      description: 'ingress controller',
      namespace: profile.ingressControllerNamespace,
      labels: { 'app.kubernetes.io/name': 'ingress-controller' },
      ports: [],
    },
    {
      description: 'another pod of the namespace',
      namespace: profile.namespace,
      labels: { app: 'other' },
      ports: [],
    },
    {
      description: 'a pod of another namespace',
      namespace: 'elsewhere',
      labels: { app: 'other' },
      ports: [],
    },
  ];
  const flows: string[] = [];
  for (const from of [...pods, ...outsiders]) {
    for (const to of pods) {
      for (const port of to.ports) {
        if (canConnect(manifests, from, to, port.containerPort, port.protocol ?? 'TCP').allowed) {
          flows.push(`${from.description} -> ${to.description}:${port.containerPort}`);
        }
      }
    }
  }
  return flows;
}

describe('the flows each profile allows', () => {
  test.each(Object.keys(EXPECTED))(
    'when the %s profile is synthesized, then exactly the wired flows are allowed',
    (name) => {
      const profile = PROFILES.find((p) => p.name === name);
      if (!profile) throw new Error(`no profile ${name}`);
      expect(allowedFlows(profile).sort()).toEqual([...EXPECTED[name]].sort());
    },
  );

  test('when the profiles are listed, then each has an expectation here', () => {
    expect(PROFILES.map((p) => p.name).sort()).toEqual(Object.keys(EXPECTED).sort());
  });
});
