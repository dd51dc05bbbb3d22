import {
  ProgramCheckError,
  checkKafkaBroker,
  convertEnvKey,
  container,
  imageServerProperties,
  kafkaPodEnv,
  listAt,
  objAt,
  podTemplate,
  requireResource,
  strAt,
  type DistProfile,
} from '../../validation/programs';
import { describeWithPrograms, distinctBy, profile, record } from './support';

function propertiesOf(dist: DistProfile) {
  const pod = kafkaPodEnv(dist);
  return { pod, image: imageServerProperties(pod.env) };
}

describeWithPrograms('Kafka settings (the 3.9.1 broker)', ['java', 'kafka-libs'], () => {
  const groups = distinctBy((d) => {
    const { image } = propertiesOf(d);
    return JSON.stringify([...image.properties]);
  });

  for (const { names, dist } of groups) {
    it(`when the ${names} container env is translated like the image does, then nothing is defaulted, dropped or left unevaluated`, () => {
      const { pod, image } = propertiesOf(dist);
      expect(pod.unresolved).toEqual([]);
      // An image default here would silently decide replication or storage for the cluster.
      expect(image.defaulted).toEqual([]);
      expect(image.dropped).toEqual([]);
    });

    it(`when the ${names} broker stores its log, then log.dirs is on the data volume claim`, () => {
      const { image } = propertiesOf(dist);
      const sts = requireResource(dist, 'StatefulSet', 'memo-kafka');
      const claims = listAt(objAt(sts.raw.spec).volumeClaimTemplates).map((t) =>
        strAt(objAt(objAt(t).metadata).name),
      );
      const mounts = listAt(container(sts, 'kafka').volumeMounts)
        .map(objAt)
        .filter((m) => claims.includes(strAt(m.name)))
        .map((m) => strAt(m.mountPath) ?? '');
      const logDirs = (image.properties.get('log.dirs') ?? '').split(',');
      expect(mounts).not.toEqual([]);
      for (const dir of logDirs) expect(mounts.some((m) => dir === m || dir.startsWith(`${m}/`))).toBe(true);
    });

    // The image turns every KAFKA_* variable into a property, service-link variables included:
    // a Service named kafka* would inject KAFKA_PORT=tcp://... into the broker's config.
    it(`when the ${names} pods get service-link variables, then none of them starts with KAFKA`, () => {
      const sts = requireResource(dist, 'StatefulSet', 'memo-kafka');
      const linked = dist.resources
        .filter((r) => r.kind === 'Service' && r.namespace === sts.namespace)
        .map((r) => r.name.toUpperCase().replace(/-/g, '_'));
      const serviceLinks = podTemplate(sts).spec.enableServiceLinks !== false;
      expect(serviceLinks ? linked.filter((n) => n.startsWith('KAFKA')) : []).toEqual([]);
    });

    it(`when the broker starts with the ${names} settings (one local node), then it reports "Kafka Server started"`, async () => {
      const { pod } = propertiesOf(dist);
      const report = await checkKafkaBroker(pod.env);
      record(`kafka ${names}`, report);
      expect(report.output).toContain('Kafka Server started');
      expect(report.properties).toContain(`min.insync.replicas=${pod.env.KAFKA_MIN_INSYNC_REPLICAS}`);
    }, 180_000);
  }

  it('when env names are translated, then the image rules apply (_ is ., __ is _, ___ is -)', () => {
    expect(convertEnvKey('MIN_INSYNC_REPLICAS')).toBe('min.insync.replicas');
    expect(convertEnvKey('LISTENER_NAME_CONTROLLER_SSL___ENDPOINT_IDENTIFICATION_ALGORITHM')).toBe(
      'listener.name.controller.ssl-endpoint.identification.algorithm',
    );
    expect(convertEnvKey('CONFLUENT__SUPPORT')).toBe('confluent_support');
    expect(imageServerProperties({ CLUSTER_ID: 'x', KAFKA_SASL_JAAS_CONFIG: 'a=b' }).dropped).toEqual([
      'KAFKA_SASL_JAAS_CONFIG',
    ]);
  });

  // The broker itself accepts unknown properties silently; the check must not.
  it('when an env name is misspelt (KAFKA_NUM_PARTITONS), then the check names the property the broker does not know', async () => {
    const { pod } = propertiesOf(profile('kind'));
    const failure = checkKafkaBroker({ ...pod.env, KAFKA_NUM_PARTITONS: '3' });
    await expect(failure).rejects.toThrow(/the broker does not know "num.partitons"/);
  }, 180_000);

  it('when a setting has a value the broker cannot parse (KAFKA_MIN_INSYNC_REPLICAS=abc), then it refuses to start', async () => {
    const { pod } = propertiesOf(profile('kind'));
    const failure = checkKafkaBroker({ ...pod.env, KAFKA_MIN_INSYNC_REPLICAS: 'abc' });
    await expect(failure).rejects.toThrow(ProgramCheckError);
    await expect(failure).rejects.toThrow(/Invalid value abc for configuration min.insync.replicas/);
  }, 180_000);
});
