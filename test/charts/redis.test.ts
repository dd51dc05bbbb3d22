import { Chart, Testing } from 'cdk8s';
import { EvictionPolicy } from '../../charts/redis/eviction-policy';
import { RedisCache, RedisCacheProps } from '../../charts/redis/redis-cache';
import { DEFAULT_DISABLED_COMMANDS } from '../../charts/redis/redis-conf';
import { ResourcePreset } from '../../charts/resources';
import { SeriesSelector } from '../../charts/series-selector';
import {
  container,
  envOf,
  expectNoLiteralSecrets,
  expectProductionReadyPods,
  find,
  names,
  secretRefs,
  synth,
} from './backing-assertions';

function build(props: RedisCacheProps = {}) {
  const app = Testing.app();
  const chart = new Chart(app, 'test', { namespace: 'memo' });
  const redis = new RedisCache(chart, 'redis', props);
  return { redis, manifests: synth(chart) };
}

describe('RedisCache with defaults', () => {
  const { redis, manifests } = build();
  const sts = find(manifests, 'StatefulSet', 'memo-redis');

  test('when synthesized, then the manifests match the snapshot', () => {
    expect(manifests).toMatchSnapshot();
  });

  test('when synthesized, then the resource names are the contract names', () => {
    expect(names(manifests, 'StatefulSet')).toEqual(['memo-redis']);
    expect(sts.spec.serviceName).toBe('memo-redis-headless');
    expect(sts.spec.replicas).toBe(1);
    expect(names(manifests, 'Service')).toEqual(['memo-redis', 'memo-redis-headless']);
    expect(find(manifests, 'Service', 'memo-redis').spec.ports).toEqual([
      { name: 'redis', port: 6379, targetPort: 'redis' },
    ]);
    expect(names(manifests, 'ConfigMap')).toEqual(['memo-redis-config']);
    expect(names(manifests, 'PodDisruptionBudget')).toEqual([]);
  });

  test('when persistence is off, then there is no volume claim and /data is scratch space', () => {
    expect(sts.spec.volumeClaimTemplates).toBeUndefined();
    const data = sts.spec.template.spec.volumes.find((v: { name: string }) => v.name === 'data');
    expect(data.emptyDir).toBeDefined();
    expect(redis.redisConf).toMatch(/^appendonly no$/m);
    expect(redis.redisConf).toMatch(/^save ""$/m);
  });

  test('when synthesized, then every pod is restricted, sized, probed and pinned', () => {
    expectProductionReadyPods(manifests);
    expect(sts.spec.template.spec.securityContext).toMatchObject({
      runAsUser: 999,
      runAsGroup: 999,
      fsGroup: 999,
    });
    expect(container(sts, 'redis').image).toBe('redis:7.4.6');
    expect(container(sts, 'redis').resources).toEqual(ResourcePreset.MICRO.toResourceRequirements());
    expect(container(sts, 'redis-exporter')).toMatchObject({
      image: 'oliver006/redis_exporter:v1.67.0',
      securityContext: { runAsUser: 59000, runAsGroup: 59000 },
      resources: ResourcePreset.NANO.toResourceRequirements(),
    });
  });

  test('when synthesized, then redis.conf bounds memory at 75 % of the limit with LRU eviction', () => {
    // MICRO: 128 MiB limit.
    expect(redis.maxMemoryMiB).toBe(96);
    expect(redis.redisConf).toMatch(/^maxmemory 96mb$/m);
    expect(redis.redisConf).toMatch(/^maxmemory-policy allkeys-lru$/m);
    expect(redis.redisConf).toMatch(/^protected-mode yes$/m);
    expect(redis.redisConf).toMatch(/^bind \* -::\*$/m);
    expect(find(manifests, 'ConfigMap', 'memo-redis-config').data['redis.conf']).toBe(redis.redisConf);
  });

  test('when synthesized, then dangerous commands are disabled', () => {
    for (const command of ['FLUSHALL', 'FLUSHDB', 'CONFIG', 'DEBUG', 'KEYS', 'SHUTDOWN']) {
      expect(redis.redisConf).toContain(`rename-command ${command} ""`);
    }
    expect(redis.redisConf.match(/^rename-command /gm)).toHaveLength(DEFAULT_DISABLED_COMMANDS.length);
  });

  test('when synthesized, then the password comes from the Secret and never appears in a file or argv', () => {
    expect(redis.redisConf).not.toMatch(/requirepass/);
    const c = container(sts, 'redis');
    expect(c.env).toEqual([
      {
        name: 'REDISCLI_AUTH',
        valueFrom: { secretKeyRef: { name: 'memo-redis-credentials', key: 'password' } },
      },
    ]);
    const start: string = c.command.join(' ');
    expect(start).toContain('> /run/redis/auth.conf');
    expect(start).toContain('unset REDISCLI_AUTH');
    expect(start).toContain('exec redis-server /etc/redis/redis.conf --include /run/redis/auth.conf');
    const run = sts.spec.template.spec.volumes.find((v: { name: string }) => v.name === 'run');
    expect(run.emptyDir.medium).toBe('Memory');
    expect(secretRefs(manifests)).toEqual(['memo-redis-credentials/password']);
    expectNoLiteralSecrets(manifests);
  });

  test('when synthesized, then the probes ping with redis-cli and expect PONG', () => {
    const c = container(sts, 'redis');
    for (const probe of [c.startupProbe, c.readinessProbe, c.livenessProbe]) {
      expect(probe.exec.command.join(' ')).toBe('sh -c redis-cli -h 127.0.0.1 -p 6379 ping | grep -q PONG');
    }
  });

  test('when synthesized, then the exporter authenticates from the Secret and skips the disabled CONFIG', () => {
    const exporter = container(sts, 'redis-exporter');
    expect(envOf(exporter)).toMatchObject({
      REDIS_ADDR: 'redis://127.0.0.1:6379',
      REDIS_EXPORTER_CONFIG_COMMAND: '-',
    });
    expect(exporter.ports).toEqual([{ name: 'metrics', containerPort: 9121 }]);
    expect(sts.spec.template.metadata.annotations['prometheus.io/port']).toBe('9121');
    const series = new SeriesSelector({ job: 'memo-redis-headless', namespace: 'memo' });
    expect(redis.monitoring.alertRules(series).map((r) => r.alert)).toEqual([
      'RedisDown',
      'RedisMemoryNearMax',
      'RedisHighEvictionRate',
      'RedisRejectedConnections',
    ]);
  });

  test('when read, then the endpoint tells a client where to connect and with which Secret', () => {
    expect({
      host: redis.host,
      port: redis.port,
      namespace: redis.namespace,
      secret: redis.passwordSecret,
    }).toEqual({
      host: 'memo-redis',
      port: 6379,
      namespace: 'memo',
      secret: { secretName: 'memo-redis-credentials', key: 'password' },
    });
    expect(redis.requiredSecrets).toEqual([
      { secretName: 'memo-redis-credentials', namespace: 'memo', keys: ['password'] },
    ]);
  });
});

describe('RedisCache with append-only persistence', () => {
  const { redis, manifests } = build({ appendOnly: true, storageGiB: 3, storageClassName: 'local-path' });
  const sts = find(manifests, 'StatefulSet', 'memo-redis');

  test('when appendOnly is on, then the manifests match the snapshot', () => {
    expect(manifests).toMatchSnapshot();
  });

  test('when appendOnly is on, then /data is a retained volume claim named data', () => {
    expect(sts.spec.volumeClaimTemplates).toEqual([
      expect.objectContaining({
        metadata: expect.objectContaining({ name: 'data' }),
        spec: {
          accessModes: ['ReadWriteOnce'],
          storageClassName: 'local-path',
          resources: { requests: { storage: '3Gi' } },
        },
      }),
    ]);
    expect(sts.spec.persistentVolumeClaimRetentionPolicy).toEqual({
      whenDeleted: 'Retain',
      whenScaled: 'Retain',
    });
    expect(sts.spec.template.spec.volumes.map((v: { name: string }) => v.name)).not.toContain('data');
    expectProductionReadyPods(manifests);
  });

  test('when appendOnly is on, then AOF is enabled and maxmemory leaves room for the rewrite fork', () => {
    expect(redis.redisConf).toMatch(/^appendonly yes$/m);
    expect(redis.redisConf).toMatch(/^appendfsync everysec$/m);
    expect(redis.maxMemoryMiB).toBe(76);
  });
});

describe('RedisCache options', () => {
  test('when an existing Secret is named, then the server and the exporter read it', () => {
    const { redis, manifests } = build({ existingSecretName: 'cache-creds' });
    expect(manifests).toMatchSnapshot();
    expect(secretRefs(manifests)).toEqual(['cache-creds/password']);
    expect(redis.passwordSecret.secretName).toBe('cache-creds');
  });

  test('when the preset is MEDIUM, then maxmemory follows the 1 GiB limit', () => {
    expect(build({ resources: ResourcePreset.MEDIUM }).redis.redisConf).toMatch(/^maxmemory 768mb$/m);
  });

  test('when commands to disable are given, then exactly those are renamed away', () => {
    const { redis } = build({ disabledCommands: ['flushall'] });
    expect(redis.redisConf.match(/^rename-command .*$/gm)).toEqual(['rename-command FLUSHALL ""']);
  });
});

describe('RedisCache errors', () => {
  const cases: Array<[string, RedisCacheProps, RegExp]> = [
    [
      'maxMemoryMiB at the limit',
      { maxMemoryMiB: 128 },
      /maxMemoryMiB must be an integer between 1 and 127, got 128/,
    ],
    [
      'an unknown policy',
      { maxMemoryPolicy: 'lru' as EvictionPolicy },
      /maxMemoryPolicy must be one of .*got 'lru'/,
    ],
    ['zero storage', { appendOnly: true, storageGiB: 0 }, /storageGiB must be an integer >= 1, got 0/],
    [
      'a volume size without appendOnly (it would size nothing)',
      { storageGiB: 5 },
      /storageGiB and storageClassName .* exists only with appendOnly: true/,
    ],
    [
      'a StorageClass without appendOnly',
      { storageClassName: 'standard' },
      /storageGiB and storageClassName .* exists only with appendOnly: true/,
    ],
    [
      'a command with a space',
      { disabledCommands: ['FLUSH ALL'] },
      /disabledCommands must hold Redis command names, got 'FLUSH ALL'/,
    ],
    ['an unpinned image', { image: 'redis' }, /image must be pinned.*got 'redis'/],
  ];
  test.each(cases)(
    'when given %s, then construction fails naming the prop and value',
    (_label, props, message) => {
      expect(() => new RedisCache(Testing.chart(), 'redis', props)).toThrow(message);
    },
  );
});
