import type { Editable, ManifestSet } from '../../../validation/manifest-set';
import { file } from '../helpers';

/*
 * One failing fixture per rule: each case breaks one thing in the hand-written folder and names
 * the finding it must cause. rules.test.ts checks the validator against them; the e2e agreement
 * test sends the same edits to a real API server.
 */

const API = 'Deployment memo/memo-api';
const C0 = 'spec.template.spec.containers[0]';
const api = (s: ManifestSet, edit: (o: Editable) => void): ManifestSet =>
  s.mutate('Deployment', 'memo-api', edit);
const apiContainer = (s: ManifestSet, edit: (c: Editable) => void): ManifestSet =>
  api(s, (o) => edit(o.spec.template.spec.containers[0]));
const kafka = (s: ManifestSet, edit: (o: Editable) => void): ManifestSet =>
  s.mutate('StatefulSet', 'memo-kafka', edit);
const labels = (name: string, component = 'x'): Record<string, string> => ({
  'app.kubernetes.io/name': name,
  'app.kubernetes.io/instance': 'memo',
  'app.kubernetes.io/component': component,
  'app.kubernetes.io/part-of': 'memostack',
  'app.kubernetes.io/managed-by': 'kubectl',
  'app.kubernetes.io/version': '0.1.0',
});
const ingress = (backend: Editable, extra: Editable = {}): string =>
  JSON.stringify({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'memo', namespace: 'memo', labels: labels('memo-api', 'api') },
    spec: {
      ingressClassName: 'nginx',
      rules: [{ http: { paths: [{ path: '/api', pathType: 'Prefix', backend, ...extra }] } }],
    },
  });
const hpa = (target: string, min = 1): string =>
  JSON.stringify({
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'memo-api', namespace: 'memo', labels: labels('memo-api', 'api') },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: target },
      minReplicas: min,
      maxReplicas: 3,
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
        },
      ],
    },
  });

export interface RuleCase {
  readonly rule: string;
  readonly when: string;
  readonly mutate: (s: ManifestSet) => ManifestSet;
  readonly file: string;
  readonly object: string;
  readonly path: string;
  readonly message: RegExp;
  /** Text on the line the finding must point at (first occurrence in the edited file). */
  readonly line: string;
  /** Which occurrence of `line`, when the text repeats (labels, spec). */
  readonly nth?: number;
  readonly severity?: 'error' | 'warning';
}

export const RULE_CASES: readonly RuleCase[] = [
  {
    rule: 'SCHEMA-STRICT',
    when: 'a Service spells clusterIp',
    mutate: (s) => s.mutate('Service', 'memo-api', (o) => void (o.spec.clusterIp = 'None')),
    file: 'memo-api-service.yaml',
    object: 'Service memo/memo-api',
    path: 'spec.clusterIp',
    message: /^Forbidden: unknown field \(did you mean "clusterIP"\?\)$/,
    line: 'clusterIp',
  },
  {
    rule: 'SCHEMA-STRICT',
    when: 'replicas is a string',
    mutate: (s) => api(s, (o) => void (o.spec.replicas = 'two')),
    file: 'memo-api-deployment.yaml',
    object: API,
    path: 'spec.replicas',
    message: /^Invalid value: "two": must be of type integer$/,
    line: 'replicas: two',
  },
  {
    rule: 'SCHEMA-STRICT',
    when: 'a container port exceeds int32',
    mutate: (s) => apiContainer(s, (c) => void (c.ports[0].containerPort = 3000000000)),
    file: 'memo-api-deployment.yaml',
    object: API,
    path: `${C0}.ports[0].containerPort`,
    message: /must be a 32-bit integer/,
    line: '3000000000',
  },
  {
    rule: 'API-NAMES',
    when: 'a container name has capitals',
    mutate: (s) => apiContainer(s, (c) => void (c.name = 'Api')),
    file: 'memo-api-deployment.yaml',
    object: API,
    path: `${C0}.name`,
    message: /^Invalid value: "Api": a lowercase RFC 1123 label/,
    line: 'name: Api',
  },
  {
    rule: 'API-NAMES',
    when: 'a StatefulSet name is longer than 52 characters',
    mutate: (s) => kafka(s, (o) => void (o.metadata.name = 'k'.repeat(53))),
    file: 'memo-kafka-statefulset.yaml',
    object: `StatefulSet memo/${'k'.repeat(53)}`,
    path: 'metadata.name',
    message: /must be no more than 52 characters/,
    line: 'k'.repeat(53),
  },
  {
    rule: 'API-LABELS',
    when: 'a label value is 64 characters long',
    mutate: (s) => api(s, (o) => void (o.metadata.labels['app.kubernetes.io/version'] = 'v'.repeat(64))),
    file: 'memo-api-deployment.yaml',
    object: API,
    path: 'metadata.labels[app.kubernetes.io/version]',
    message: /must be no more than 63 characters/,
    line: 'v'.repeat(64),
  },
  {
    rule: 'API-LABELS',
    when: 'a label key has two slashes',
    mutate: (s) => api(s, (o) => void (o.metadata.labels['a/b/c'] = 'x')),
    file: 'memo-api-deployment.yaml',
    object: API,
    path: 'metadata.labels[a/b/c]',
    message: /a qualified name must consist of/,
    line: 'a/b/c',
  },
  {
    rule: 'API-SELECTOR',
    when: 'the selector does not match the template labels',
    mutate: (s) => api(s, (o) => void (o.spec.selector.matchLabels['app.kubernetes.io/component'] = 'web')),
    file: 'memo-api-deployment.yaml',
    object: API,
    path: 'spec.template.metadata.labels',
    message: /`selector` does not match template `labels`/,
    line: 'labels:',
    nth: 2,
  },
  {
    rule: 'API-LISTMAP',
    when: 'an env name is duplicated',
    mutate: (s) => apiContainer(s, (c) => void c.env.push({ name: 'LOG_LEVEL', value: 'debug' })),
    file: 'memo-api-deployment.yaml',
    object: API,
    path: `${C0}.env[5].name`,
    message: /^Duplicate value: "LOG_LEVEL"$/,
    line: 'name: LOG_LEVEL',
    nth: 2,
  },
  {
    rule: 'API-LISTMAP',
    when: 'two volumes share a name',
    mutate: (s) => api(s, (o) => void o.spec.template.spec.volumes.push({ name: 'tmp', emptyDir: {} })),
    file: 'memo-api-deployment.yaml',
    object: API,
    path: 'spec.template.spec.volumes[1].name',
    message: /^Duplicate value: "tmp"$/,
    line: '- name: tmp',
    nth: 3,
  },
  {
    rule: 'API-PORTS',
    when: 'a container port name is longer than 15 characters',
    mutate: (s) => apiContainer(s, (c) => void (c.ports[0].name = 'metrics-exporter-http')),
    file: 'memo-api-deployment.yaml',
    object: API,
    path: `${C0}.ports[0].name`,
    message: /^Invalid value: "metrics-exporter-http": must be no more than 15 characters$/,
    line: 'name: metrics-exporter-http',
  },
  {
    rule: 'API-PORTS',
    when: 'a second Service port has no name',
    mutate: (s) =>
      s.mutate('Service', 'memo-api', (o) => void o.spec.ports.push({ port: 8080, targetPort: 3000 })),
    file: 'memo-api-service.yaml',
    object: 'Service memo/memo-api',
    path: 'spec.ports[1].name',
    message: /^Required value$/,
    line: 'port: 8080',
  },
  {
    rule: 'API-ENV',
    when: 'valueFrom has two sources',
    mutate: (s) =>
      apiContainer(s, (c) => void (c.env[4].valueFrom.configMapKeyRef = { name: 'x', key: 'y' })),
    file: 'memo-api-deployment.yaml',
    object: API,
    path: `${C0}.env[4].valueFrom`,
    message: /may not have more than one field specified at a time/,
    line: 'valueFrom:',
  },
  {
    rule: 'API-ENV',
    when: 'an env var has both value and valueFrom',
    mutate: (s) => apiContainer(s, (c) => void (c.env[4].value = 'x')),
    file: 'memo-api-deployment.yaml',
    object: API,
    path: `${C0}.env[4].valueFrom`,
    message: /may not be specified when `value` is not empty/,
    line: 'valueFrom:',
  },
  {
    rule: 'API-PROBES',
    when: 'a readiness probe has two handlers',
    mutate: (s) => apiContainer(s, (c) => void (c.readinessProbe.tcpSocket = { port: 'http' })),
    file: 'memo-api-deployment.yaml',
    object: API,
    path: `${C0}.readinessProbe.tcpSocket`,
    message: /^Forbidden: may not specify more than 1 handler type$/,
    line: 'tcpSocket:',
  },
  {
    rule: 'API-PROBES',
    when: 'a liveness probe needs two successes',
    mutate: (s) => apiContainer(s, (c) => void (c.livenessProbe.successThreshold = 2)),
    file: 'memo-api-deployment.yaml',
    object: API,
    path: `${C0}.livenessProbe.successThreshold`,
    message: /^Invalid value: 2: must be 1$/,
    line: 'successThreshold: 2',
  },
  {
    rule: 'API-RESOURCES',
    when: 'a request is above its limit',
    mutate: (s) => apiContainer(s, (c) => void (c.resources.requests.cpu = '2')),
    file: 'memo-api-deployment.yaml',
    object: API,
    path: `${C0}.resources.requests.cpu`,
    message: /^Invalid value: "2": must be less than or equal to cpu limit of 500m$/,
    line: 'cpu: "2"',
  },
  {
    rule: 'API-VOLUMES',
    when: 'a mount names no volume',
    mutate: (s) => apiContainer(s, (c) => void (c.volumeMounts[0].name = 'cache')),
    file: 'memo-api-deployment.yaml',
    object: API,
    path: `${C0}.volumeMounts[0].name`,
    message: /^Not found: "cache"$/,
    line: 'name: cache',
  },
  {
    rule: 'API-VOLUMES',
    when: 'a claim template has no access modes',
    mutate: (s) => kafka(s, (o) => void delete o.spec.volumeClaimTemplates[0].spec.accessModes),
    file: 'memo-kafka-statefulset.yaml',
    object: 'StatefulSet memo/memo-kafka',
    path: 'spec.volumeClaimTemplates[0].spec.accessModes',
    message: /at least 1 access mode is required/,
    line: 'spec:',
    nth: 3,
  },
  {
    rule: 'API-KIND-SPECIFIC',
    when: 'an Ingress path has no pathType',
    mutate: (s) =>
      s.setText(
        file('ingress.yaml'),
        ingress({ service: { name: 'memo-api', port: { number: 80 } } }, { pathType: undefined }),
      ),
    file: 'ingress.yaml',
    object: 'Ingress memo/memo',
    path: 'spec.rules[0].http.paths[0].pathType',
    message: /^Required value: pathType must be specified$/,
    line: '"path"',
  },
  {
    rule: 'API-KIND-SPECIFIC',
    when: 'an HPA has minReplicas 0',
    mutate: (s) => s.setText(file('hpa.yaml'), hpa('memo-api', 0)),
    file: 'hpa.yaml',
    object: 'HorizontalPodAutoscaler memo/memo-api',
    path: 'spec.minReplicas',
    message: /^Invalid value: 0: must be greater than or equal to 1$/,
    line: 'minReplicas',
  },
  {
    rule: 'API-KIND-SPECIFIC',
    when: 'a ConfigMap key has a space',
    mutate: (s) => s.mutate('ConfigMap', 'memo-prometheus', (o) => void (o.data['bad key'] = 'x')),
    file: 'memo-prometheus-configmap.yaml',
    object: 'ConfigMap memo/memo-prometheus',
    path: 'data[bad key]',
    message: /a valid config key must consist of/,
    line: 'bad key',
  },
  {
    rule: 'XREF-SERVICE',
    when: 'a Service selects no pods',
    mutate: (s) =>
      s.mutate('Service', 'memo-api', (o) => void (o.spec.selector['app.kubernetes.io/component'] = 'web')),
    file: 'memo-api-service.yaml',
    object: 'Service memo/memo-api',
    path: 'spec.selector',
    message: /selects no pod template/,
    line: 'selector:',
  },
  {
    rule: 'XREF-SERVICE',
    when: 'a named targetPort does not exist',
    mutate: (s) => s.mutate('Service', 'memo-api', (o) => void (o.spec.ports[0].targetPort = 'web')),
    file: 'memo-api-service.yaml',
    object: 'Service memo/memo-api',
    path: 'spec.ports[0].targetPort',
    message: /^Not found: "web": no container port named "web" in Deployment memo\/memo-api$/,
    line: 'targetPort: web',
  },
  {
    rule: 'XREF-STS-HEADLESS',
    when: 'the governing Service is not headless',
    mutate: (s) => s.mutate('Service', 'memo-kafka-headless', (o) => void delete o.spec.clusterIP),
    file: 'memo-kafka-statefulset.yaml',
    object: 'StatefulSet memo/memo-kafka',
    path: 'spec.serviceName',
    message: /Service is not headless/,
    line: 'serviceName:',
  },
  {
    rule: 'XREF-REFS',
    when: 'a secretKeyRef names a key the generator does not produce',
    mutate: (s) => apiContainer(s, (c) => void (c.env[4].valueFrom.secretKeyRef.key = 'db-pass')),
    file: 'memo-api-deployment.yaml',
    object: API,
    path: `${C0}.env[4].valueFrom.secretKeyRef.key`,
    message: /^Not found: "db-pass": Secret memo\/memo-secrets has no such key \(keys: db-password\)$/,
    line: 'key: db-pass',
  },
  {
    rule: 'XREF-REFS',
    when: 'a configMap volume names a ConfigMap that does not exist',
    mutate: (s) =>
      api(
        s,
        (o) =>
          void (o.spec.template.spec.volumes[0] = { name: 'tmp', configMap: { name: 'memo-api-config' } }),
      ),
    file: 'memo-api-deployment.yaml',
    object: API,
    path: 'spec.template.spec.volumes[0].configMap.name',
    message: /^Not found: "memo-api-config": no ConfigMap memo\/memo-api-config/,
    line: 'name: memo-api-config',
  },
  {
    rule: 'XREF-INGRESS',
    when: 'an Ingress backend names a port the Service lacks',
    mutate: (s) =>
      s.setText(file('ingress.yaml'), ingress({ service: { name: 'memo-api', port: { number: 8080 } } })),
    file: 'ingress.yaml',
    object: 'Ingress memo/memo',
    path: 'spec.rules[0].http.paths[0].backend.service.port.number',
    message: /^Not found: 8080: Service memo\/memo-api has ports http\(80\)$/,
    line: '"path"',
  },
  {
    rule: 'XREF-HPA',
    when: 'an HPA targets a Deployment that does not exist',
    mutate: (s) => s.setText(file('hpa.yaml'), hpa('memo-apx')),
    file: 'hpa.yaml',
    object: 'HorizontalPodAutoscaler memo/memo-api',
    path: 'spec.scaleTargetRef.name',
    message: /^Not found: "memo-apx"/,
    line: 'memo-apx',
  },
  {
    rule: 'XREF-HPA',
    when: 'an HPA scales on CPU but a container has no CPU request',
    mutate: (s) =>
      apiContainer(s.setText(file('hpa.yaml'), hpa('memo-api')), (c) => void delete c.resources.requests.cpu),
    file: 'hpa.yaml',
    object: 'HorizontalPodAutoscaler memo/memo-api',
    path: 'spec.metrics[0].resource.name',
    message: /container "api" of Deployment memo\/memo-api has no cpu request/,
    line: '"metrics"',
  },
  {
    rule: 'XREF-PROBE-PORT',
    when: 'a probe names a port the container does not declare',
    mutate: (s) => apiContainer(s, (c) => void (c.readinessProbe.httpGet.port = 'metrics')),
    file: 'memo-api-deployment.yaml',
    object: API,
    path: `${C0}.readinessProbe.httpGet.port`,
    message: /^Not found: "metrics": container "api" declares no such port \(declared: http\(3000\)\)$/,
    line: 'port: metrics',
  },
  {
    rule: 'XREF-DNS',
    when: 'an env host names no Service',
    mutate: (s) => apiContainer(s, (c) => void (c.env[1].value = 'memo-redis-master')),
    file: 'memo-api-deployment.yaml',
    object: API,
    path: `${C0}.env[1].value`,
    message: /^Not found: "memo-redis-master": no Service memo\/memo-redis-master in this folder$/,
    line: 'memo-redis-master',
  },
  {
    rule: 'XREF-DNS',
    when: 'a broker list names a port the Service does not expose',
    mutate: (s) =>
      apiContainer(
        s,
        (c) => void (c.env[3].value = 'memo-kafka-bootstrap:9092,memo-kafka-bootstrap.memo.svc:9093'),
      ),
    file: 'memo-api-deployment.yaml',
    object: API,
    path: `${C0}.env[3].value`,
    message:
      /^Invalid value: "memo-kafka-bootstrap.memo.svc:9093": Service memo\/memo-kafka-bootstrap does not expose port 9093 \(ports: 9092\)$/,
    line: 'memo-kafka-bootstrap:9092,',
  },
  {
    rule: 'XREF-DNS',
    when: 'REDIS_PORT beside REDIS_HOST names a port the Service does not expose',
    mutate: (s) => apiContainer(s, (c) => void (c.env[2].value = '6380')),
    file: 'memo-api-deployment.yaml',
    object: API,
    path: `${C0}.env[1].value`,
    message: /does not expose port 6380/,
    line: 'value: memo-redis',
  },
  {
    rule: 'XREF-DNS',
    when: 'a pod DNS name has an ordinal beyond the replicas',
    mutate: (s) =>
      apiContainer(
        s,
        (c) =>
          void c.env.push({
            name: 'SEED_HOSTS',
            value: 'memo-kafka-2.memo-kafka-headless.memo.svc.cluster.local:9092',
          }),
      ),
    file: 'memo-api-deployment.yaml',
    object: API,
    path: `${C0}.env[5].value`,
    message: /StatefulSet memo\/memo-kafka has 1 replica\(s\), ordinals 0..0/,
    line: 'memo-kafka-2.memo-kafka-headless',
  },
  {
    rule: 'XREF-DNS',
    when: 'a scrape target in an embedded prometheus.yml names a wrong port',
    mutate: (s) =>
      s.mutate(
        'ConfigMap',
        'memo-prometheus',
        (o) => void (o.data['prometheus.yml'] = o.data['prometheus.yml'].replace('svc:80', 'svc:8080')),
      ),
    file: 'memo-prometheus-configmap.yaml',
    object: 'ConfigMap memo/memo-prometheus',
    path: 'data[prometheus.yml]',
    message:
      /^Invalid value: "memo-api.memo.svc:8080": Service memo\/memo-api does not expose port 8080 \(ports: 80\)$/,
    line: 'memo-api.memo.svc:8080',
  },
  {
    rule: 'KAFKA-QUORUM',
    when: 'the StatefulSet has 3 replicas but the quorum lists 1 voter',
    mutate: (s) => kafka(s, (o) => void (o.spec.replicas = 3)),
    file: 'memo-kafka-statefulset.yaml',
    object: 'StatefulSet memo/memo-kafka',
    path: 'spec.template.spec.containers[0].env[6].value',
    message: /lists 1 voter\(s\) but StatefulSet memo\/memo-kafka has 3 replica\(s\)/,
    line: '0@memo-kafka-0',
  },
  {
    rule: 'KAFKA-QUORUM',
    when: 'a voter id does not match the pod ordinal',
    mutate: (s) =>
      kafka(
        s,
        (o) =>
          void (o.spec.template.spec.containers[0].env[6].value =
            '1@memo-kafka-0.memo-kafka-headless.memo.svc.cluster.local:9093'),
      ),
    file: 'memo-kafka-statefulset.yaml',
    object: 'StatefulSet memo/memo-kafka',
    path: 'spec.template.spec.containers[0].env[6].value',
    message:
      /node id 1 must be the pod of ordinal 1: memo-kafka-1\.memo-kafka-headless\.memo\.svc\.cluster\.local:9093/,
    line: '1@memo-kafka-0',
  },
  {
    rule: 'KAFKA-QUORUM',
    when: 'the voters name a port the headless Service does not expose',
    mutate: (s) =>
      kafka(
        s,
        (o) =>
          void (o.spec.template.spec.containers[0].env[6].value =
            '0@memo-kafka-0.memo-kafka-headless.memo.svc.cluster.local:9094'),
      ),
    file: 'memo-kafka-statefulset.yaml',
    object: 'StatefulSet memo/memo-kafka',
    path: 'spec.template.spec.containers[0].env[6].value',
    message: /does not expose controller port 9094/,
    line: ':9094',
  },
  {
    rule: 'API-KIND-SPECIFIC',
    when: 'a privileged container forbids privilege escalation',
    mutate: (s) => apiContainer(s, (c) => void (c.securityContext.privileged = true)),
    file: 'memo-api-deployment.yaml',
    object: API,
    path: `${C0}.securityContext`,
    message: /^Invalid value: cannot set `allowPrivilegeEscalation` to false and `privileged` to true$/,
    line: 'securityContext:',
    nth: 2,
  },
  {
    rule: 'SEC-PSS-RESTRICTED',
    // Escalation allowed too: with allowPrivilegeEscalation false the API server's own
    // validation refuses the pair before Pod Security sees it (the API-KIND-SPECIFIC case).
    when: 'a container is privileged',
    mutate: (s) =>
      apiContainer(s, (c) => {
        c.securityContext.privileged = true;
        c.securityContext.allowPrivilegeEscalation = true;
      }),
    file: 'memo-api-deployment.yaml',
    object: API,
    path: `${C0}.securityContext.privileged`,
    message: /must not set securityContext.privileged=true/,
    line: 'privileged: true',
  },
  {
    rule: 'SEC-PSS-RESTRICTED',
    when: 'a pod uses a hostPath volume',
    mutate: (s) =>
      api(s, (o) => void (o.spec.template.spec.volumes[0] = { name: 'tmp', hostPath: { path: '/tmp' } })),
    file: 'memo-api-deployment.yaml',
    object: API,
    path: 'spec.template.spec.volumes[0].hostPath',
    message: /hostPath volumes are forbidden/,
    line: 'hostPath:',
  },
  {
    rule: 'SEC-PSS-RESTRICTED',
    when: 'a container adds a capability other than NET_BIND_SERVICE',
    mutate: (s) => apiContainer(s, (c) => void (c.securityContext.capabilities.add = ['NET_ADMIN'])),
    file: 'memo-api-deployment.yaml',
    object: API,
    path: `${C0}.securityContext.capabilities.add[0]`,
    message: /may only add capability "NET_BIND_SERVICE", not "NET_ADMIN"/,
    line: 'NET_ADMIN',
  },
  {
    rule: 'SEC-PSS-RESTRICTED',
    when: 'neither pod nor container sets runAsNonRoot',
    mutate: (s) => api(s, (o) => void delete o.spec.template.spec.securityContext.runAsNonRoot),
    file: 'memo-api-deployment.yaml',
    object: API,
    path: `${C0}.securityContext.runAsNonRoot`,
    message: /must set securityContext.runAsNonRoot=true/,
    line: 'securityContext:',
    nth: 2,
  },
  {
    rule: 'SEC-ROFS',
    when: 'the root filesystem is writable',
    mutate: (s) => apiContainer(s, (c) => void (c.securityContext.readOnlyRootFilesystem = false)),
    file: 'memo-api-deployment.yaml',
    object: API,
    path: `${C0}.securityContext.readOnlyRootFilesystem`,
    message: /must set readOnlyRootFilesystem=true/,
    line: 'readOnlyRootFilesystem: false',
  },
  {
    rule: 'SEC-SA-TOKEN',
    when: 'a pod that does not use the API mounts a token',
    mutate: (s) => api(s, (o) => void delete o.spec.template.spec.automountServiceAccountToken),
    file: 'memo-api-deployment.yaml',
    object: API,
    path: 'spec.template.spec.automountServiceAccountToken',
    message: /service account "default" is bound to no role/,
    line: 'spec:',
    nth: 2,
    severity: 'warning',
  },
  {
    rule: 'SEC-SECRETS',
    when: 'a password is an env literal',
    mutate: (s) => apiContainer(s, (c) => void (c.env[4] = { name: 'DB_PASSWORD', value: 'hunter2' })),
    file: 'memo-api-deployment.yaml',
    object: API,
    path: `${C0}.env[4].value`,
    message: /"DB_PASSWORD" looks like a secret/,
    line: 'hunter2',
  },
  {
    rule: 'SEC-SECRETS',
    when: 'an embedded config file holds a password',
    mutate: (s) =>
      s.mutate(
        'ConfigMap',
        'memo-prometheus',
        (o) => void (o.data['redis.conf'] = 'maxmemory 100mb\nrequirepass hunter2\n'),
      ),
    file: 'memo-prometheus-configmap.yaml',
    object: 'ConfigMap memo/memo-prometheus',
    path: 'data[redis.conf]',
    message: /"requirepass" holds a literal secret/,
    line: 'requirepass hunter2',
  },
  {
    rule: 'SEC-SECRETS',
    when: 'a Secret with data is committed',
    mutate: (s) =>
      s.setText(
        file('secret.yaml'),
        'apiVersion: v1\nkind: Secret\nmetadata:\n  name: memo-extra\n  namespace: memo\ndata:\n  token: aHVudGVyMg==\n',
      ),
    file: 'secret.yaml',
    object: 'Secret memo/memo-extra',
    path: 'data',
    message: /a Secret with literal data must not be committed/,
    line: 'data:',
    nth: 2,
  },
  {
    rule: 'SEC-RBAC',
    when: 'a Role grants every verb',
    mutate: (s) =>
      s.setText(
        file('role.yaml'),
        'apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: reader\n  namespace: memo\nrules:\n  - apiGroups: [""]\n    resources: [configmaps]\n    verbs: ["*"]\n',
      ),
    file: 'role.yaml',
    object: 'Role memo/reader',
    path: 'rules[0].verbs[0]',
    message: /wildcard verbs/,
    line: 'verbs',
  },
  {
    rule: 'BP-RESOURCES',
    when: 'a container has no memory limit',
    mutate: (s) => apiContainer(s, (c) => void delete c.resources.limits.memory),
    file: 'memo-api-deployment.yaml',
    object: API,
    path: `${C0}.resources.limits.memory`,
    message: /needs resources.limits.memory/,
    line: 'limits:',
  },
  {
    rule: 'BP-IMAGE',
    when: 'an image has no tag',
    mutate: (s) => apiContainer(s, (c) => void (c.image = 'memo-api')),
    file: 'memo-api-deployment.yaml',
    object: API,
    path: `${C0}.image`,
    message:
      /^Invalid value: "memo-api": must be pinned to a version tag or digest, not an implicit "latest"$/,
    line: 'image: memo-api',
  },
  {
    rule: 'BP-IMAGE',
    when: 'the pull policy is Always',
    mutate: (s) => apiContainer(s, (c) => void (c.imagePullPolicy = 'Always')),
    file: 'memo-api-deployment.yaml',
    object: API,
    path: `${C0}.imagePullPolicy`,
    message: /^Unsupported value: "Always": supported values: "IfNotPresent"$/,
    line: 'imagePullPolicy: Always',
  },
  {
    rule: 'BP-PROBES',
    when: 'a container behind a Service has no readiness probe',
    mutate: (s) => apiContainer(s, (c) => void delete c.readinessProbe),
    file: 'memo-api-deployment.yaml',
    object: API,
    path: `${C0}.readinessProbe`,
    message: /receives Service traffic and needs a readinessProbe/,
    line: '- name: api',
  },
  {
    rule: 'BP-PROBES',
    when: 'liveness is identical to readiness',
    mutate: (s) => apiContainer(s, (c) => void (c.livenessProbe = { ...c.readinessProbe })),
    file: 'memo-api-deployment.yaml',
    object: API,
    path: `${C0}.livenessProbe`,
    message: /livenessProbe is identical to readinessProbe/,
    line: 'livenessProbe:',
  },
  {
    rule: 'BP-PROBES',
    when: 'a slow starter has no startup probe',
    mutate: (s) => kafka(s, (o) => void delete o.spec.template.spec.containers[0].startupProbe),
    file: 'memo-kafka-statefulset.yaml',
    object: 'StatefulSet memo/memo-kafka',
    path: 'spec.template.spec.containers[0].startupProbe',
    message: /starts slowly and should have a startupProbe/,
    line: '- name: kafka',
    severity: 'warning',
  },
  {
    rule: 'BP-AVAILABILITY',
    when: 'a replicated Deployment has no PodDisruptionBudget',
    mutate: (s) => api(s, (o) => void (o.spec.replicas = 3)),
    file: 'memo-api-deployment.yaml',
    object: API,
    path: 'metadata.name',
    message: /no PodDisruptionBudget selects these replicated pods/,
    line: 'name: memo-api',
    severity: 'warning',
  },
  {
    rule: 'BP-AVAILABILITY',
    when: 'a replicated Deployment does not spread',
    mutate: (s) => api(s, (o) => void (o.spec.replicas = 3)),
    file: 'memo-api-deployment.yaml',
    object: API,
    path: 'spec.template.spec.topologySpreadConstraints',
    message: /3 replicas with no topologySpreadConstraints or podAntiAffinity/,
    line: 'spec:',
    nth: 2,
    severity: 'warning',
  },
  {
    rule: 'BP-NETPOL',
    when: 'no policy selects a workload for ingress',
    mutate: (s) =>
      s.setText(
        file('networkpolicies.yaml'),
        s
          .text(file('networkpolicies.yaml'))
          .replace(
            'podSelector: {}',
            'podSelector:\n    matchLabels:\n      app.kubernetes.io/name: memo-redis',
          ),
      ),
    file: 'memo-api-deployment.yaml',
    object: API,
    path: 'spec.template.metadata.labels',
    message: /^Required value: no NetworkPolicy selects these pods for Ingress$/,
    line: 'labels:',
    nth: 2,
  },
  {
    rule: 'BP-NETPOL',
    when: 'a policy peer selects no pods',
    mutate: (s) =>
      s.setText(
        file('networkpolicies.yaml'),
        s.text(file('networkpolicies.yaml')).replace('name: memo-api', 'name: memo-apx'),
      ),
    file: 'networkpolicies.yaml',
    object: 'NetworkPolicy memo/memo-redis-from-api',
    path: 'spec.ingress[0].from[0].podSelector',
    message: /peer selects no pod template/,
    line: 'podSelector:',
    nth: 3,
  },
  {
    rule: 'BP-NETPOL',
    when: 'a Service is a NodePort',
    mutate: (s) => s.mutate('Service', 'memo-api', (o) => void (o.spec.type = 'NodePort')),
    file: 'memo-api-service.yaml',
    object: 'Service memo/memo-api',
    path: 'spec.type',
    message: /"NodePort": exposes the Service on every node/,
    line: 'type: NodePort',
  },
  {
    rule: 'BP-NETPOL',
    when: 'a namespaced object omits its namespace',
    mutate: (s) => s.mutate('Service', 'memo-api', (o) => void delete o.metadata.namespace),
    file: 'memo-api-service.yaml',
    object: 'Service memo-api',
    path: 'metadata.namespace',
    message: /must name their namespace explicitly/,
    line: 'metadata:',
  },
  {
    rule: 'BP-NETPOL',
    when: 'an object lacks the recommended labels',
    mutate: (s) =>
      s.mutate('Service', 'memo-api', (o) => void delete o.metadata.labels['app.kubernetes.io/version']),
    file: 'memo-api-service.yaml',
    object: 'Service memo/memo-api',
    path: 'metadata.labels',
    message: /missing recommended labels app.kubernetes.io\/version$/,
    line: 'labels:',
    severity: 'warning',
  },
  {
    rule: 'MON-RULES',
    when: 'an alert has no severity label',
    mutate: (s) =>
      s.mutate(
        'ConfigMap',
        'memo-prometheus',
        (o) => void (o.data['alerts.yml'] = o.data['alerts.yml'].replace('severity: critical', 'team: memo')),
      ),
    file: 'memo-prometheus-configmap.yaml',
    object: 'ConfigMap memo/memo-prometheus',
    path: 'data[alerts.yml]',
    message:
      /^groups\[0\]\.rules\[0\]\.labels\[severity\]: Required value: alert "MemoApiDown" needs a severity label for routing$/,
    line: 'labels:',
    nth: 2,
  },
  {
    rule: 'MON-RULES',
    when: 'an alert has no for',
    mutate: (s) =>
      s.mutate(
        'ConfigMap',
        'memo-prometheus',
        (o) => void (o.data['alerts.yml'] = o.data['alerts.yml'].replace(/ *for: 5m\n/, '')),
      ),
    file: 'memo-prometheus-configmap.yaml',
    object: 'ConfigMap memo/memo-prometheus',
    path: 'data[alerts.yml]',
    message: /needs a non-zero `for`/,
    line: '- alert: MemoApiDown',
  },
  {
    rule: 'KUSTOMIZATION',
    when: 'a manifest in the folder is not listed',
    mutate: (s) =>
      s.setText(
        file('kustomization.yaml'),
        s.text(file('kustomization.yaml')).replace('  - memo-redis-service.yaml\n', ''),
      ),
    file: 'kustomization.yaml',
    object: 'Kustomization hand-written',
    path: 'resources',
    message: /"memo-redis-service.yaml" is in the folder but not listed/,
    line: 'resources:',
  },
  {
    rule: 'KUSTOMIZATION',
    when: 'a listed file does not exist',
    mutate: (s) =>
      s.setText(
        file('kustomization.yaml'),
        s.text(file('kustomization.yaml')).replace('resources:\n', 'resources:\n  - missing.yaml\n'),
      ),
    file: 'kustomization.yaml',
    object: 'Kustomization hand-written',
    path: 'resources[0]',
    message: /^Not found: "missing.yaml"/,
    line: 'missing.yaml',
  },
];
