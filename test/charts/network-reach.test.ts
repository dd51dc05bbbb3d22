/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped JSON */
import { canConnect, matchesSelector, PodRef } from './network-reach';

const pod = (namespace: string, labels: Record<string, string>, ports: PodRef['ports'] = []): PodRef => ({
  description: `Pod/${Object.values(labels).join('-')}`,
  namespace,
  labels,
  ports,
});
let policies = 0;
const policy = (namespace: string, spec: any): any => ({
  kind: 'NetworkPolicy',
  metadata: { name: `policy-${++policies}`, namespace },
  spec,
});

const web = pod('shop', { app: 'web' });
const db = pod('shop', { app: 'db' }, [{ containerPort: 5432, name: 'sql' }]);
const batch = pod('jobs', { app: 'batch' });
const denyAll = policy('shop', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
const jobsNamespace = { kind: 'Namespace', metadata: { name: 'jobs', labels: { team: 'data' } } };

describe('NetworkPolicy semantics of the test evaluator', () => {
  test('when no policy selects either pod, then the flow is allowed and neither side is isolated', () => {
    expect(canConnect([], web, db, 5432)).toEqual({
      allowed: true,
      egress: 'not isolated',
      ingress: 'not isolated',
    });
  });

  test('when a default-deny policy selects both, then both sides deny', () => {
    const verdict = canConnect([denyAll], web, db, 5432);
    expect(verdict.allowed).toBe(false);
    expect(verdict.egress).toMatch(/^denied/);
    expect(verdict.ingress).toMatch(/^denied/);
  });

  test('when policies add an egress and an ingress rule on the port, then only that port opens', () => {
    const manifests = [
      denyAll,
      policy('shop', {
        podSelector: { matchLabels: { app: 'web' } },
        policyTypes: ['Egress'],
        egress: [{ to: [{ podSelector: { matchLabels: { app: 'db' } } }], ports: [{ port: 5432 }] }],
      }),
      policy('shop', {
        podSelector: { matchLabels: { app: 'db' } },
        ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ port: 'sql' }] }],
      }),
    ];
    expect(canConnect(manifests, web, db, 5432).allowed).toBe(true);
    expect(canConnect(manifests, web, db, 5433).allowed).toBe(false);
    expect(canConnect(manifests, web, db, 5432, 'UDP').allowed).toBe(false);
  });

  test('when policyTypes is absent, then a policy with egress rules isolates egress and one without does not', () => {
    const ingressOnly = policy('shop', { podSelector: { matchLabels: { app: 'web' } }, ingress: [] });
    expect(canConnect([ingressOnly], web, db, 5432).egress).toBe('not isolated');
    const withEgress = policy('shop', {
      podSelector: { matchLabels: { app: 'web' } },
      egress: [{ to: [{ podSelector: { matchLabels: { app: 'cache' } } }] }],
    });
    expect(canConnect([withEgress], web, db, 5432).egress).toMatch(/^denied/);
  });

  test('when namespaceSelector and podSelector share one peer, then both must match; in two peers either may', () => {
    const both = {
      namespaceSelector: { matchLabels: { team: 'data' } },
      podSelector: { matchLabels: { app: 'web' } },
    };
    const and = [denyAll, jobsNamespace, policy('shop', { podSelector: {}, ingress: [{ from: [both] }] })];
    expect(canConnect(and, batch, db, 5432).ingress).toMatch(/^denied/);
    const or = [
      denyAll,
      jobsNamespace,
      policy('shop', {
        podSelector: {},
        ingress: [
          { from: [{ namespaceSelector: both.namespaceSelector }, { podSelector: both.podSelector }] },
        ],
      }),
    ];
    expect(canConnect(or, batch, db, 5432).ingress).toMatch(/^allowed/);
  });

  test('when a peer has only a podSelector, then it matches pods of the policy namespace only', () => {
    const sameNamespaceOnly = [
      denyAll,
      policy('shop', { podSelector: {}, ingress: [{ from: [{ podSelector: {} }] }] }),
    ];
    expect(canConnect(sameNamespaceOnly, batch, db, 5432).ingress).toMatch(/^denied/);
    expect(canConnect(sameNamespaceOnly, web, db, 5432).ingress).toMatch(/^allowed/);
  });

  test('when a port rule has an endPort, then the range is inclusive', () => {
    const ranged = [
      policy('shop', { podSelector: {}, ingress: [{ ports: [{ port: 5000, endPort: 5432 }] }] }),
    ];
    expect(canConnect(ranged, web, db, 5432).allowed).toBe(true);
    expect(canConnect(ranged, web, db, 5433).allowed).toBe(false);
  });

  test('when an ipBlock is the only peer, then no pod matches it', () => {
    const ip = [
      policy('shop', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }] }),
    ];
    expect(canConnect(ip, web, db, 5432).allowed).toBe(false);
  });

  test.each([
    [{ matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }] }, { tier: 'b' }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'In', values: ['a'] }] }, {}, false],
    [{ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['a'] }] }, {}, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['a'] }] }, { tier: 'a' }, false],
    [{ matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, { tier: '' }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, { tier: 'x' }, false],
    [{ matchLabels: { a: '1' }, matchExpressions: [{ key: 'b', operator: 'Exists' }] }, { a: '1' }, false],
    [{}, { anything: 'x' }, true],
  ])('when the selector is %j and the labels %j, then it matches: %s', (selector, labels, expected) => {
    expect(matchesSelector(selector, labels)).toBe(expected);
  });

  test('when an operator is unknown, then the selector matches nothing', () => {
    expect(matchesSelector({ matchExpressions: [{ key: 'a', operator: 'Gt' }] }, {})).toBe(false);
  });
});
