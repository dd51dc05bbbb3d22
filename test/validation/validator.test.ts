import * as path from 'path';
import { formatFinding, formatSummary } from '../../validation/format';
import { ManifestSet } from '../../validation/manifest-set';
import type { Exemption, Finding } from '../../validation/types';
import { validateDocuments } from '../../validation/validate';
import { baseline, FAST, file, ofRule, src } from './helpers';

const NS = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: memo\n';

describe('SCHEMA-STRICT across versions', () => {
  it('when an API is removed in later versions, then one finding names exactly those versions', () => {
    const flow =
      'apiVersion: flowcontrol.apiserver.k8s.io/v1beta3\nkind: FlowSchema\nmetadata:\n  name: memo\nspec:\n  priorityLevelConfiguration:\n    name: global-default\n';
    const r = validateDocuments([src('flow.yaml', flow)], { k8sVersions: ['1.31', '1.32', '1.33'] });
    const hits = ofRule(r, 'SCHEMA-STRICT');
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({
      line: 1,
      col: 13,
      path: 'apiVersion',
      message:
        'Invalid value: "flowcontrol.apiserver.k8s.io/v1beta3": no matches for kind "FlowSchema" in version "flowcontrol.apiserver.k8s.io/v1beta3" (Kubernetes 1.32-1.33)',
    });
  });

  it('when an API was never served by any target version, then the finding carries no version list', () => {
    const r = validateDocuments(
      [src('pdb.yaml', 'apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata:\n  name: x\n')],
      FAST,
    );
    expect(ofRule(r, 'SCHEMA-STRICT').map((f) => f.message)).toEqual([
      'Invalid value: "policy/v1beta1": no matches for kind "PodDisruptionBudget" in version "policy/v1beta1"',
    ]);
  });

  it('when a required field is missing, then the path names the field and the line its parent', () => {
    const r = validateDocuments(
      [
        src(
          'svc.yaml',
          `${NS}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: x\n  namespace: memo\nspec:\n  ports:\n    - name: http\n`,
        ),
      ],
      FAST,
    );
    expect(ofRule(r, 'SCHEMA-STRICT')).toEqual([
      expect.objectContaining({
        path: 'spec.ports[0].port',
        message: 'Required value',
        line: 13,
        object: 'Service memo/x',
      }),
    ]);
  });

  it('when a kind is defined by a CustomResourceDefinition in the folder, then its objects are not schema-checked', () => {
    const crd =
      'apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  names: {kind: Widget, plural: widgets}\n  scope: Namespaced\n  versions:\n    - name: v1\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema: {type: object}\n';
    const widget =
      'apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: memo\nspec: {anything: 1}\n';
    const r = validateDocuments([src('crd.yaml', crd), src('widget.yaml', widget)], FAST);
    expect(ofRule(r, 'SCHEMA-STRICT').filter((f) => f.file.endsWith('widget.yaml'))).toEqual([]);
    const without = validateDocuments([src('widget.yaml', widget)], FAST);
    expect(ofRule(without, 'SCHEMA-STRICT').map((f) => f.path)).toEqual(['apiVersion']);
  });

  it('when no schemas exist and CI requires them, then that is an error; elsewhere it is a notice and a skip', () => {
    const missing = path.join('test', 'validation', 'no-such-schemas');
    const required = validateDocuments([src('ns.yaml', NS)], { schemasDir: missing, requireSchemas: true });
    expect(ofRule(required, 'SCHEMA-STRICT')).toEqual([
      expect.objectContaining({ rule: 'SCHEMA-STRICT', severity: 'error', file: '<schemas>' }),
    ]);
    const notices: string[] = [];
    const relaxed = validateDocuments([src('ns.yaml', NS)], {
      schemasDir: missing,
      requireSchemas: false,
      log: (m) => notices.push(m),
    });
    expect(relaxed.versionsChecked).toEqual([]);
    expect(ofRule(relaxed, 'SCHEMA-STRICT')).toEqual([]);
    expect(notices.join('\n')).toMatch(/strict schema checks skipped/);
  });

  it('when an unknown version is requested, then validation refuses with the available versions', () => {
    expect(() => validateDocuments([src('ns.yaml', NS)], { k8sVersions: ['1.12'] })).toThrow(
      /unknown Kubernetes version 1\.12/,
    );
  });
});

describe('YAML-HYGIENE', () => {
  const hygiene = (text: string): Finding[] =>
    ofRule(validateDocuments([src('x.yaml', text)], FAST), 'YAML-HYGIENE');

  it('when a key is duplicated, then the second occurrence is reported', () => {
    expect(hygiene(`${NS}  name: other\n`)).toEqual([
      expect.objectContaining({
        line: 5,
        col: 3,
        message: expect.stringMatching(/^Duplicate value: Map keys must be unique/),
      }),
    ]);
  });

  it('when an anchor and alias are used, then both are reported', () => {
    const text = `${NS}  labels: &l\n    a: b\n  annotations: *l\n`;
    expect(hygiene(text).map((f) => [f.line, f.message])).toEqual([
      [6, 'Forbidden: YAML anchor &l'],
      [7, 'Forbidden: YAML alias *l (expand it; not every tool resolves aliases)'],
    ]);
  });

  it('when a custom tag is used, then it is reported', () => {
    expect(hygiene(`${NS}  labels:\n    a: !secret b\n`).map((f) => f.message)).toEqual([
      'Forbidden: custom YAML tag !secret',
    ]);
  });

  it('when a file has an empty document, then it is reported at the separator', () => {
    expect(hygiene(`${NS}---\n---\n${NS}`).map((f) => f.line)).toEqual([5]);
    expect(hygiene('').map((f) => f.message)).toEqual(['Invalid value: empty file']);
  });

  it('when a file is YAML but not a Kubernetes object, then it is skipped entirely', () => {
    const r = validateDocuments([src('values.yaml', 'replicas: 3\nimage: {tag: latest}\n')], FAST);
    expect(r).toEqual({ findings: [], objectsChecked: 0, versionsChecked: ['1.27', '1.36'] });
  });
});

describe('exemptions', () => {
  const EXTERNAL: Exemption = {
    rule: 'XREF-REFS',
    kind: 'Secret',
    namespace: 'memo',
    name: 'memo-secrets',
    reason: 'created by the operator before apply',
  };
  const withoutGenerator = (): ManifestSet =>
    baseline().setText(
      file('kustomization.yaml'),
      baseline()
        .text(file('kustomization.yaml'))
        .replace(/secretGenerator:[\s\S]*$/, ''),
    );

  it('when a referenced Secret is neither defined nor generated, then XREF-REFS fires; declared external, it does not', () => {
    expect(ofRule(withoutGenerator().validate(FAST), 'XREF-REFS').map((f) => f.path)).toEqual([
      'spec.template.spec.containers[0].env[4].valueFrom.secretKeyRef.name',
    ]);
    const r = withoutGenerator().validate({ ...FAST, exemptions: [EXTERNAL] });
    expect(r.findings).toEqual([]);
  });

  it('when an exemption matches nothing, then it is reported as stale with its reason', () => {
    const r = baseline().validate({
      ...FAST,
      exemptions: [EXTERNAL],
      exemptionsFile: 'validation/exemptions.ts',
    });
    expect(r.findings).toEqual([
      expect.objectContaining({
        rule: 'EXEMPTION-STALE',
        severity: 'error',
        file: 'validation/exemptions.ts',
        object: 'Secret memo/memo-secrets',
        message: expect.stringContaining(
          'matches no finding; remove it (reason given: created by the operator before apply)',
        ),
      }),
    ]);
  });

  it('when an exemption is limited to a profile that was not validated, then it is neither applied nor stale', () => {
    const cloudOnly = { ...EXTERNAL, profiles: ['cloud'] };
    expect(baseline().validate({ ...FAST, exemptions: [cloudOnly] }).findings).toEqual([]);
    expect(
      ofRule(withoutGenerator().validate({ ...FAST, exemptions: [cloudOnly] }), 'XREF-REFS'),
    ).toHaveLength(1);
  });

  it('when a rule is exempted for one object, then only that object loses the finding', () => {
    const set = baseline()
      .mutate(
        'Deployment',
        'memo-api',
        (o) => void (o.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem = false),
      )
      .mutate(
        'Deployment',
        'memo-redis',
        (o) => void (o.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem = false),
      );
    const r = set.validate({
      ...FAST,
      exemptions: [
        {
          rule: 'SEC-ROFS',
          kind: 'Deployment',
          namespace: 'memo',
          name: 'memo-redis',
          reason: 'writes its pid file to /',
        },
      ],
    });
    expect(r.findings.map((f) => `${f.rule} ${f.object}`)).toEqual(['SEC-ROFS Deployment memo/memo-api']);
  });
});

describe('checks that must stay quiet', () => {
  it('when env values and config hold ordinary words and external URLs, then XREF-DNS says nothing', () => {
    const set = baseline()
      .mutate(
        'Deployment',
        'memo-api',
        (o) =>
          void o.spec.template.spec.containers[0].env.push(
            { name: 'PUBLIC_URL', value: 'https://memo.example.com/app' },
            { name: 'KAFKA_CLIENT_ID', value: 'memo-api' },
            { name: 'GREETING', value: 'see the docs at help.svc' },
            { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: 'http://localhost:4318' },
            { name: 'DATABASE_URL', value: 'mysql://memo@memo-kafka-bootstrap:9092/memo' },
          ),
      )
      .mutate('ConfigMap', 'memo-prometheus', (o) => {
        o.data['grafana.ini'] =
          '[server]\nroot_url = %(protocol)s://%(domain)s/grafana/\n[security]\nadmin_user = admin\n';
        o.data['links.json'] = JSON.stringify(
          { links: [{ url: '/d/memo' }, { url: 'https://grafana.com/docs' }] },
          null,
          2,
        );
      });
    expect(ofRule(set.validate(FAST), 'XREF-DNS')).toEqual([]);
  });

  it('when a pod mounts a token but its service account is bound to a Role, then SEC-SA-TOKEN is quiet', () => {
    const rbac = [
      'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: memo-api\n  namespace: memo\n',
      'apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: memo-api\n  namespace: memo\nrules:\n  - apiGroups: [""]\n    resources: [configmaps]\n    verbs: [get]\n',
      'apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: memo-api\n  namespace: memo\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: memo-api\nsubjects:\n  - kind: ServiceAccount\n    name: memo-api\n    namespace: memo\n',
    ].join('---\n');
    const set = baseline()
      .setText(file('rbac.yaml'), rbac)
      .mutate('Deployment', 'memo-api', (o) => {
        delete o.spec.template.spec.automountServiceAccountToken;
        o.spec.template.spec.serviceAccountName = 'memo-api';
      });
    const r = set.validate(FAST);
    expect(ofRule(r, 'SEC-SA-TOKEN')).toEqual([]);
    expect(ofRule(r, 'XREF-REFS')).toEqual([]);
    expect(ofRule(r, 'SEC-RBAC')).toEqual([]);
  });

  it('when a PodDisruptionBudget and spread are present for replicas, then BP-AVAILABILITY is quiet', () => {
    const pdb =
      'apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: memo-api\n  namespace: memo\nspec:\n  maxUnavailable: 1\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: memo-api\n';
    const set = baseline()
      .setText(file('pdb.yaml'), pdb)
      .mutate('Deployment', 'memo-api', (o) => {
        o.spec.replicas = 3;
        o.spec.template.spec.topologySpreadConstraints = [
          {
            maxSkew: 1,
            topologyKey: 'kubernetes.io/hostname',
            whenUnsatisfiable: 'ScheduleAnyway',
            labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'memo-api' } },
          },
        ];
      });
    expect(ofRule(set.validate(FAST), 'BP-AVAILABILITY')).toEqual([]);
  });
});

describe('output format', () => {
  const finding: Finding = {
    rule: 'API-PORTS',
    severity: 'error',
    file: 'dist/kind/memo-api.yaml',
    line: 57,
    col: 21,
    object: 'Deployment memo/memo-api',
    constructPath: 'memo/api/Resource',
    path: 'spec.template.spec.containers[0].ports[0].name',
    message: 'Invalid value: "metrics-exporter-http": must be no more than 15 characters',
  };

  it('when a finding has a construct path, then it follows the object in parentheses and the field path is indented below', () => {
    expect(formatFinding(finding)).toBe(
      'dist/kind/memo-api.yaml:57:21 error API-PORTS Deployment memo/memo-api (memo/api/Resource)\n  spec.template.spec.containers[0].ports[0].name: Invalid value: "metrics-exporter-http": must be no more than 15 characters',
    );
  });

  it('when a finding has no construct path or field path, then neither leaves a trace', () => {
    expect(formatFinding({ ...finding, constructPath: undefined, path: '' })).toBe(
      'dist/kind/memo-api.yaml:57:21 error API-PORTS Deployment memo/memo-api\n  Invalid value: "metrics-exporter-http": must be no more than 15 characters',
    );
  });

  it('when summarising, then objects, versions, errors and warnings are counted', () => {
    expect(
      formatSummary({
        findings: [finding, { ...finding, severity: 'warning' }],
        objectsChecked: 12,
        versionsChecked: ['1.27', '1.28'],
      }),
    ).toBe('checked 12 objects x 2 Kubernetes versions (1.27-1.28): 1 error, 1 warning');
  });
});

describe('SEC-SECRETS and XREF-DNS edge cases', () => {
  it('when a password-named variable holds a flag or a relative link holds a path, then neither is a finding', () => {
    const set = baseline().mutate(
      'Deployment',
      'memo-api',
      (o) =>
        void o.spec.template.spec.containers[0].env.push(
          { name: 'MARIADB_RANDOM_ROOT_PASSWORD', value: 'yes' },
          { name: 'DOCS_URL', value: 'docs/index.html' },
        ),
    );
    const r = set.validate(FAST);
    expect([...ofRule(r, 'SEC-SECRETS'), ...ofRule(r, 'XREF-DNS')]).toEqual([]);
  });
});

describe('XREF-DNS through a settings ConfigMap', () => {
  const settings = (data: Record<string, string>): string =>
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'memo-api-config', namespace: 'memo' },
      data,
    });

  it('when DB_PORT beside DB_HOST in a ConfigMap names a port the Service lacks, then the host key is reported', () => {
    const set = baseline().setText(
      file('settings.yaml'),
      settings({ REDIS_HOST: 'memo-redis', REDIS_PORT: '6380', LOG_LEVEL: 'info' }),
    );
    expect(ofRule(set.validate(FAST), 'XREF-DNS')).toEqual([
      expect.objectContaining({
        object: 'ConfigMap memo/memo-api-config',
        path: 'data[REDIS_HOST]',
        message:
          'Invalid value: "memo-redis": Service memo/memo-redis does not expose port 6380 (ports: 6379)',
      }),
    ]);
  });

  it('when the ConfigMap names existing Services and ports, then it is quiet', () => {
    const set = baseline().setText(
      file('settings.yaml'),
      settings({
        REDIS_HOST: 'memo-redis',
        REDIS_PORT: '6379',
        KAFKA_BROKERS: 'memo-kafka-bootstrap.memo.svc:9092',
        'my.cnf': '[mysqld]\ncharacter-set-server = utf8mb4\n',
      }),
    );
    expect(ofRule(set.validate(FAST), 'XREF-DNS')).toEqual([]);
  });
});
