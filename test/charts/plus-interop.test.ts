/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped JSON */
import { App, Chart, Testing } from 'cdk8s';
import * as plus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { MemoStack } from '../../charts/memo-stack';
import { KIND } from '../../charts/profiles';
import { canConnect, podNamed, PodRef } from './network-reach';

/**
 * Another team's chart, written the cdk8s-plus way: plain cdk8s-plus-27 Deployments in their
 * own namespace, next to a MemoStack whose namespace denies every flow nobody declared. One
 * call connects each client; the policies are then evaluated with NetworkPolicy semantics
 * (network-reach.ts), since no cluster here enforces them.
 */
class OtherTeamChart extends Chart {
  public readonly notifier: plus.Deployment;
  public readonly reporter: plus.Deployment;
  public readonly auditor: plus.Deployment;
  public readonly stranger: plus.Deployment;

  public constructor(scope: Construct, id: string, memo: MemoStack) {
    super(scope, id, { namespace: 'notifications', disableResourceNameHashes: true });
    const app = (name: string): plus.Deployment =>
      new plus.Deployment(this, name, {
        metadata: { name },
        containers: [
          { image: `${name}:1.0.0`, portNumber: 8080, securityContext: { user: 1000, group: 1000 } },
        ],
      });
    this.notifier = app('notifier');
    this.reporter = app('reporter');
    this.auditor = app('auditor');
    this.stranger = app('stranger');

    // The one call per flow: our construct's method ...
    memo.cache.allowClient(this.notifier);
    memo.events.allowClient(this.notifier);
    memo.database.allowClient(this.reporter);
    // ... or cdk8s-plus's own, with our construct as the peer.
    this.auditor.connections.allowTo(memo.api, {
      ports: [plus.NetworkPolicyPort.tcp(memo.api.containerPort)],
    });
  }
}

function build(): { memo: MemoStack; other: OtherTeamChart; manifests: any[] } {
  const app = Testing.app();
  const memo = new MemoStack(app, 'memo', { profile: KIND });
  const other = new OtherTeamChart(app, 'notifications', memo);
  return { memo, other, manifests: [...Testing.synth(memo), ...Testing.synth(other)] };
}

const KUBE_DNS: PodRef = {
  description: 'Pod/coredns',
  namespace: 'kube-system',
  labels: { 'k8s-app': 'kube-dns' },
  ports: [{ containerPort: 53, protocol: 'UDP' }],
};

describe('cdk8s-plus-27 workloads connecting to our constructs', () => {
  const { memo, manifests } = build();
  const pod = (kind: string, name: string): PodRef => podNamed(manifests, kind, name);
  const notifier = pod('Deployment', 'notifier');
  const reporter = pod('Deployment', 'reporter');
  const auditor = pod('Deployment', 'auditor');
  const stranger = pod('Deployment', 'stranger');
  const redis = pod('StatefulSet', memo.cache.name);
  const kafka = pod('StatefulSet', memo.events.name);
  const mariadb = pod('StatefulSet', memo.database.name);
  const api = pod('Deployment', memo.api.name);

  test('when a cdk8s-plus Deployment is connected with allowClient, then it reaches Redis on its client port', () => {
    const verdict = canConnect(manifests, notifier, redis, memo.cache.port);
    expect(verdict).toEqual({
      allowed: true,
      egress: expect.stringMatching(/^allowed by NetworkPolicy\//),
      ingress: expect.stringMatching(/^allowed by NetworkPolicy\//),
    });
    expect(canConnect(manifests, notifier, kafka, memo.events.port).allowed).toBe(true);
    expect(canConnect(manifests, reporter, mariadb, memo.database.port).allowed).toBe(true);
  });

  test("when cdk8s-plus's own connections.allowTo names our construct, then that flow is allowed too", () => {
    expect(canConnect(manifests, auditor, api, memo.api.containerPort).allowed).toBe(true);
  });

  test('when a Deployment was not connected, then our policies refuse it everywhere', () => {
    for (const [server, port] of [
      [redis, memo.cache.port],
      [kafka, memo.events.port],
      [mariadb, memo.database.port],
      [api, memo.api.containerPort],
    ] as const) {
      const verdict = canConnect(manifests, stranger, server, port);
      expect(verdict.allowed).toBe(false);
      expect(verdict.ingress).toMatch(/^denied/);
    }
  });

  test('when a client is connected to one service, then it reaches exactly that port and no other', () => {
    const metricsPorts = redis.ports.filter((p) => p.containerPort !== memo.cache.port);
    expect(metricsPorts.length).toBeGreaterThan(0);
    for (const p of metricsPorts)
      expect(canConnect(manifests, notifier, redis, p.containerPort).allowed).toBe(false);
    expect(canConnect(manifests, notifier, mariadb, memo.database.port).allowed).toBe(false);
    expect(canConnect(manifests, reporter, redis, memo.cache.port).allowed).toBe(false);
    // The egress policy isolates the client, so its other traffic now needs rules of its own.
    expect(canConnect(manifests, notifier, stranger, 8080).egress).toMatch(/^denied/);
  });

  test('when a client is connected, then it may still resolve names through cluster DNS', () => {
    expect(canConnect(manifests, notifier, KUBE_DNS, 53, 'UDP').egress).toMatch(
      /^allowed by NetworkPolicy\//,
    );
    expect(canConnect(manifests, notifier, KUBE_DNS, 53, 'TCP').egress).toMatch(
      /^allowed by NetworkPolicy\//,
    );
  });

  test('when isolation is PEER, then only our side opens and the client keeps its own egress', () => {
    const app = Testing.app();
    const stack = new MemoStack(app, 'memo', { profile: KIND });
    const chart = new Chart(app, 'other', { namespace: 'notifications' });
    const client = new plus.Deployment(chart, 'client', {
      containers: [{ image: 'client:1.0.0', securityContext: { user: 1000, group: 1000 } }],
    });
    stack.cache.allowClient(client, { isolation: plus.PodConnectionsIsolation.PEER });
    const objects = [...Testing.synth(stack), ...Testing.synth(chart)];
    expect(
      objects.filter((m) => m.kind === 'NetworkPolicy' && m.metadata.namespace === 'notifications'),
    ).toEqual([]);
    const clientPod = podsNamedLike(objects, 'client');
    expect(canConnect(objects, clientPod, podNamed(objects, 'StatefulSet', stack.cache.name), 6379)).toEqual({
      allowed: true,
      egress: 'not isolated',
      ingress: expect.stringMatching(/^allowed by NetworkPolicy\//),
    });
  });

  test('when the client has no namespace, then allowClient refuses it with the reason', () => {
    const app = Testing.app();
    const stack = new MemoStack(app, 'memo', { profile: KIND });
    const chart = new Chart(app, 'nameless');
    const client = new plus.Deployment(chart, 'client', { containers: [{ image: 'client:1.0.0' }] });
    expect(() => stack.cache.allowClient(client)).toThrow(
      /RedisCache\.allowClient: the client nameless\/client has no namespace/,
    );
  });

  test('when the charts are synthesized twice, then the YAML is identical', () => {
    const twice = [new App(), new App()].map((app) => {
      const memo = new MemoStack(app, 'memo', { profile: KIND });
      new OtherTeamChart(app, 'notifications', memo);
      return app.synthYaml();
    });
    expect(twice[0]).toBe(twice[1]);
  });
});

function podsNamedLike(manifests: readonly any[], fragment: string): PodRef {
  const found = manifests.find((m) => m.kind === 'Deployment' && m.metadata.name.includes(fragment));
  if (!found) throw new Error(`no Deployment named like ${fragment}`);
  return podNamed(manifests, 'Deployment', found.metadata.name);
}
