import {
  ProgramCheckError,
  checkMariadbConfig,
  container,
  mountedConfigMapFiles,
  requireResource,
  strAt,
  type DistProfile,
  type MountedFile,
} from '../../validation/programs';
import { describeWithPrograms, distinctBy, profile, record } from './support';

/** The option files the mariadb image reads: everything mounted into /etc/mysql/conf.d. */
function serverOptionFiles(dist: DistProfile): MountedFile[] {
  const sts = requireResource(dist, 'StatefulSet', 'memo-mariadb');
  return mountedConfigMapFiles(dist, sts, 'mariadb').filter((f) =>
    /^\/etc\/mysql\/conf\.d\/[^/]+\.cnf$/.test(f.path),
  );
}

function onlyOptionFile(dist: DistProfile): MountedFile {
  const files = serverOptionFiles(dist);
  expect(files.map((f) => f.path)).toHaveLength(1);
  return files[0];
}

describeWithPrograms('MariaDB settings (mariadbd)', ['mariadbd', 'mariadb-install-db', 'mariadb'], () => {
  for (const { names, dist } of distinctBy((d) =>
    serverOptionFiles(d)
      .map((f) => f.content)
      .join('\n'),
  )) {
    it(`when mariadbd starts with the ${names} option file, then it accepts a connection`, async () => {
      const file = onlyOptionFile(dist);
      const report = await checkMariadbConfig(file.content);
      record(`mariadb ${names} ${file.configMap}/${file.key}`, report);
      expect(report.output).not.toMatch(/\[ERROR\]/);
    }, 180_000);
  }

  // The cloud primary and replica get `--server-id=<ordinal+1>` and replicas `--read-only=ON`
  // from the StatefulSet's command; the binlog/relay/GTID settings must hold up with both.
  it('when the cloud replica starts (server-id 2, read-only), then mariadbd accepts a connection', async () => {
    const cloud = profile('cloud');
    const sts = requireResource(cloud, 'StatefulSet', 'memo-mariadb');
    const command = (container(sts, 'mariadb').command as unknown[]).map((c) => strAt(c) ?? '').join('\n');
    expect(command).toContain('--server-id=');
    expect(command).toContain('--read-only=ON');
    const report = await checkMariadbConfig(onlyOptionFile(cloud).content, {
      extraArgs: ['--server-id=2', '--read-only=ON'],
    });
    record('mariadb cloud replica', report);
  }, 180_000);

  it('when the option file sets an unknown variable, then mariadbd refuses it', async () => {
    const broken = `${onlyOptionFile(profile('kind')).content}\nno_such_variable = 1\n`;
    const failure = checkMariadbConfig(broken);
    await expect(failure).rejects.toThrow(ProgramCheckError);
    await expect(failure).rejects.toThrow(/unknown variable 'no_such_variable=1'/);
  }, 180_000);
});
