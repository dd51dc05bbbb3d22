import { JsonPatch, Testing } from 'cdk8s';
import { stringify } from 'yaml';
import { MemoStack } from '../../../charts/memo-stack';
import { KIND } from '../../../charts/profiles';
import type { SourceFile } from '../../../validation/types';

/*
 * The constructs reject bad props, but a user can still reach past them with cdk8s escape
 * hatches (`addJsonPatch`) and write any value into the manifest. Each case patches one field
 * the props check would have refused. escape-hatches.test.ts checks the validator catches it;
 * the e2e agreement test sends the same patched objects to a real API server.
 */
export type Patch = (stack: MemoStack) => void;

export interface Where {
  readonly rule: string;
  readonly file: string;
  readonly object: string;
  readonly path: string;
}

/** [what the patch writes, the patch, the finding it must cause, that finding's message]. */
export const ESCAPE_HATCHES: ReadonlyArray<readonly [string, Patch, Where, RegExp]> = [
  [
    'a backup schedule the CronJob controller cannot parse',
    (s) => s.database.backupCronJob?.addJsonPatch(JsonPatch.replace('/spec/schedule', '0 24 * * *')),
    {
      rule: 'API-KIND-SPECIFIC',
      file: 'escape/CronJob.memo-mariadb-backup.k8s.yaml',
      object: 'CronJob memo/memo-mariadb-backup',
      path: 'spec.schedule',
    },
    /^Invalid value: "0 24 \* \* \*": hour field: 24 is outside 0-23$/,
  ],
  [
    'a storage class name that is no object name',
    (s) =>
      s.database.statefulSet.addJsonPatch(
        JsonPatch.replace('/spec/volumeClaimTemplates/0/spec/storageClassName', 'Fast_SSD'),
      ),
    {
      rule: 'API-KIND-SPECIFIC',
      file: 'escape/StatefulSet.memo-mariadb.k8s.yaml',
      object: 'StatefulSet memo/memo-mariadb',
      path: 'spec.volumeClaimTemplates[0].spec.storageClassName',
    },
    /^Invalid value: "Fast_SSD": a lowercase RFC 1123 subdomain/,
  ],
  [
    'an ingress class name with a space',
    (s) => s.api.ingress.addJsonPatch(JsonPatch.replace('/spec/ingressClassName', 'nginx public')),
    {
      rule: 'API-KIND-SPECIFIC',
      file: 'escape/Ingress.memo-api.k8s.yaml',
      object: 'Ingress memo/memo-api',
      path: 'spec.ingressClassName',
    },
    /^Invalid value: "nginx public": a lowercase RFC 1123 subdomain/,
  ],
  [
    'an unpinned image',
    (s) =>
      s.cache.statefulSet.addJsonPatch(JsonPatch.replace('/spec/template/spec/containers/0/image', 'redis')),
    {
      rule: 'BP-IMAGE',
      file: 'escape/StatefulSet.memo-redis.k8s.yaml',
      object: 'StatefulSet memo/memo-redis',
      path: 'spec.template.spec.containers[0].image',
    },
    /must be pinned to a version tag or digest/,
  ],
  [
    'a Kafka node count the quorum voters do not list',
    (s) => s.events.statefulSet.addJsonPatch(JsonPatch.replace('/spec/replicas', 2)),
    {
      rule: 'KAFKA-QUORUM',
      file: 'escape/StatefulSet.memo-kafka.k8s.yaml',
      object: 'StatefulSet memo/memo-kafka',
      path: 'spec.template.spec.containers[0].env[2].value',
    },
    /lists 1 voter\(s\) but StatefulSet memo\/memo-kafka has 2 replica\(s\)$/,
  ],
];

/** The kind profile's MemoStack after one patch, as the files a synth would write. */
export function synthesized(patch: Patch): SourceFile[] {
  const stack = new MemoStack(Testing.app(), 'memo', { profile: KIND });
  patch(stack);
  return Testing.synth(stack).map((o) => ({
    file: `escape/${o.kind}.${o.metadata.name}.k8s.yaml`,
    text: stringify(o),
  }));
}
