import {
  ProgramCheckError,
  checkRedisConfig,
  container,
  mountedConfigMapFiles,
  redisServerInvocation,
  requireResource,
  type DistProfile,
} from '../../validation/programs';
import { describeWithPrograms, distinctBy, profile, record } from './support';

const TEST_PASSWORD = 'test-redis-password';

/** The config file redis-server is started with, found through the StatefulSet's mounts. */
function redisSetup(dist: DistProfile) {
  const sts = requireResource(dist, 'StatefulSet', 'memo-redis');
  const c = container(sts, 'redis');
  const invocation = redisServerInvocation(c);
  const file = mountedConfigMapFiles(dist, sts, 'redis').find((f) => f.path === invocation.configPath);
  if (file === undefined)
    throw new Error(`${invocation.configPath} is not a mounted ConfigMap file in ${dist.dir}`);
  // The command writes the requirepass include from the Secret before exec'ing the server.
  const generatedFiles = Object.fromEntries(
    invocation.args
      .filter((_a, i) => invocation.args[i - 1] === '--include')
      .map((p) => [p, `requirepass "${TEST_PASSWORD}"\n`]),
  );
  return { file, args: invocation.args, generatedFiles };
}

describeWithPrograms('Redis settings (redis-server)', ['redis-server', 'redis-cli'], () => {
  for (const { names, dist } of distinctBy((d) => {
    const s = redisSetup(d);
    return `${s.file.content}\n${s.args.join(' ')}`;
  })) {
    it(`when redis-server starts with the ${names} config and arguments, then it answers PING with the password`, async () => {
      const setup = redisSetup(dist);
      const report = await checkRedisConfig(setup.file.content, {
        extraArgs: setup.args,
        generatedFiles: setup.generatedFiles,
        password: TEST_PASSWORD,
      });
      record(`redis ${names} ${setup.file.configMap}/${setup.file.key} ${setup.args.join(' ')}`, report);
      expect(report.output).toMatch(/Ready to accept connections/);
    }, 60_000);
  }

  it('when the config has a directive value Redis rejects, then redis-server refuses to start', async () => {
    const setup = redisSetup(profile('kind'));
    const broken = setup.file.content.replace(
      /^maxmemory-policy .*$/m,
      'maxmemory-policy most-recently-used',
    );
    expect(broken).not.toEqual(setup.file.content);
    const failure = checkRedisConfig(broken, { extraArgs: setup.args, generatedFiles: setup.generatedFiles });
    await expect(failure).rejects.toThrow(ProgramCheckError);
    await expect(failure).rejects.toThrow(
      /FATAL CONFIG FILE ERROR[\s\S]*maxmemory-policy most-recently-used/,
    );
  }, 60_000);
});
