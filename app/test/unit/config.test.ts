import { ConfigError, loadConfig, loadMigrationDatabaseConfig } from '../../src/config';

const BASE = {
  DB_HOST: 'memo-mariadb',
  DB_USER: 'memo',
  DB_PASSWORD: 's3cret',
  REDIS_HOST: 'memo-redis',
  KAFKA_BROKERS: 'memo-kafka-bootstrap:9092',
};

function errorFor(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('when only the required variables are set, then every other takes its contract default', () => {
    const config = loadConfig(BASE);
    expect(config).toEqual({
      port: 3000,
      metricsPort: 9464,
      logLevel: 'info',
      db: { host: 'memo-mariadb', port: 3306, name: 'memos', user: 'memo', password: 's3cret', poolMax: 10 },
      redis: { host: 'memo-redis', port: 6379, password: '' },
      kafka: { brokers: ['memo-kafka-bootstrap:9092'], topic: 'memo_events', clientId: 'memo-api' },
      cacheTtlSeconds: 300,
      rateLimitPerMinute: 100,
      corsOrigins: [],
      shutdownDelayMs: 5000,
      auth: undefined,
      dbStatementTimeoutMs: 2000,
      rateLimitSearchPerMinute: 30,
      trustedProxyCidrs: [],
      cacheKeyPrefix: 'memo:memo-mariadb:3306/memos',
    });
  });

  it('when every variable is set, then each is parsed into the typed config', () => {
    const config = loadConfig({
      ...BASE,
      PORT: '8080',
      METRICS_PORT: '9100',
      LOG_LEVEL: 'DEBUG',
      DB_PORT: '3307',
      DB_NAME: 'memo_prod',
      DB_POOL_MAX: '25',
      REDIS_PORT: '6380',
      REDIS_PASSWORD: 'r pass ',
      CACHE_TTL_SECONDS: '60',
      KAFKA_BROKERS: 'k-0:9092, k-1:9092',
      KAFKA_TOPIC: 'memo_events_v2',
      KAFKA_CLIENT_ID: 'memo-api-2',
      RATE_LIMIT_PER_MINUTE: '0',
      CORS_ORIGINS: 'https://a.example, http://localhost:5173',
      SHUTDOWN_DELAY_MS: '0',
      DB_STATEMENT_TIMEOUT_MS: '750',
      RATE_LIMIT_SEARCH_PER_MINUTE: '0',
      TRUSTED_PROXY_CIDRS: '10.0.0.0/8, fd00::/8,192.0.2.1',
      CACHE_KEY_PREFIX: 'memo/prod/memo-api',
    });
    expect(config.port).toBe(8080);
    expect(config.metricsPort).toBe(9100);
    expect(config.logLevel).toBe('debug');
    expect(config.db).toEqual({
      host: 'memo-mariadb',
      port: 3307,
      name: 'memo_prod',
      user: 'memo',
      password: 's3cret',
      poolMax: 25,
    });
    expect(config.redis).toEqual({ host: 'memo-redis', port: 6380, password: 'r pass ' });
    expect(config.kafka).toEqual({
      brokers: ['k-0:9092', 'k-1:9092'],
      topic: 'memo_events_v2',
      clientId: 'memo-api-2',
    });
    expect(config.cacheTtlSeconds).toBe(60);
    expect(config.rateLimitPerMinute).toBe(0);
    expect(config.corsOrigins).toEqual(['https://a.example', 'http://localhost:5173']);
    expect(config.shutdownDelayMs).toBe(0);
    expect(config.dbStatementTimeoutMs).toBe(750);
    expect(config.rateLimitSearchPerMinute).toBe(0);
    expect(config.trustedProxyCidrs).toEqual(['10.0.0.0/8', 'fd00::/8', '192.0.2.1']);
    expect(config.cacheKeyPrefix).toBe('memo/prod/memo-api');
  });

  it('when CACHE_KEY_PREFIX is unset, then it names the database the cache mirrors, so two stacks differ', () => {
    const a = loadConfig({ ...BASE, DB_NAME: 'memos' }).cacheKeyPrefix;
    const b = loadConfig({ ...BASE, DB_HOST: 'memo-mariadb.other.svc' }).cacheKeyPrefix;
    expect(a).toBe('memo:memo-mariadb:3306/memos');
    expect(b).toBe('memo:memo-mariadb.other.svc:3306/memos');
  });

  it('when CACHE_TTL_SECONDS is 0, then it is accepted as "cache off" rather than rejected', () => {
    expect(loadConfig({ ...BASE, CACHE_TTL_SECONDS: '0' }).cacheTtlSeconds).toBe(0);
  });

  it('when DB_PASSWORD is set but empty, then it is accepted (a local server without a password)', () => {
    expect(loadConfig({ ...BASE, DB_PASSWORD: '' }).db.password).toBe('');
  });

  it.each(['DB_HOST', 'DB_USER', 'DB_PASSWORD', 'REDIS_HOST', 'KAFKA_BROKERS'])(
    'when the required %s is missing, then the error names it',
    (name) => {
      const env: Record<string, string | undefined> = { ...BASE };
      delete env[name];
      const err = errorFor(env);
      expect(err.variable).toBe(name);
      expect(err.message).toBe(`${name}: is required but not set`);
    },
  );

  it.each([
    ['PORT', 'abc', 'integer from 1 to 65535'],
    ['PORT', '70000', 'integer from 1 to 65535'],
    ['METRICS_PORT', '0', 'integer from 1 to 65535'],
    ['METRICS_PORT', '3000', 'must differ from PORT (3000)'],
    ['LOG_LEVEL', 'verbose', 'one of debug, info, warn, error'],
    ['DB_HOST', 'bad host!', 'host name or IP address'],
    ['DB_PORT', '-1', 'integer from 1 to 65535'],
    ['DB_NAME', 'memos;drop', 'letters, digits and _'],
    ['DB_POOL_MAX', '0', 'integer from 1 to 1000'],
    ['REDIS_HOST', 'a b', 'host name or IP address'],
    ['REDIS_PORT', '6379x', 'integer from 1 to 65535'],
    ['CACHE_TTL_SECONDS', '86401', 'integer from 0 to 86400'],
    ['CACHE_TTL_SECONDS', '-5', 'integer from 0 to 86400'],
    ['KAFKA_BROKERS', 'kafka', 'host:port'],
    ['KAFKA_BROKERS', 'kafka:99999', 'host:port'],
    ['KAFKA_TOPIC', 'memo events', 'Kafka topic name'],
    ['KAFKA_TOPIC', '..', 'Kafka topic name'],
    ['KAFKA_CLIENT_ID', 'memo/api', 'client id'],
    ['RATE_LIMIT_PER_MINUTE', '1.5', 'integer from 0 to 1000000'],
    ['CORS_ORIGINS', 'not a url', 'origins like'],
    ['CORS_ORIGINS', 'https://a.example/path', 'bare origin'],
    ['SHUTDOWN_DELAY_MS', '5s', 'integer from 0 to 120000'],
    ['OIDC_ISSUER_URL', 'login.example.com', 'https URL'],
    ['OIDC_ISSUER_URL', 'http://login.example.com', 'http only for localhost'],
    ['OIDC_ISSUER_URL', 'https://login.example.com/?tenant=1', 'without query'],
    ['OIDC_ISSUER_URL', `https://login.example.com/${'r'.repeat(230)}`, 'at most 255 characters'],
    ['OIDC_AUDIENCE', 'memo-api', 'OIDC_ISSUER_URL is not'],
    ['OIDC_ADMIN_ROLE', 'memo-admin', 'OIDC_ISSUER_URL is not'],
    ['AUTH_REQUIRED_FOR_READS', 'true', 'OIDC_ISSUER_URL is not set'],
    ['DB_STATEMENT_TIMEOUT_MS', '99', 'integer from 100 to 600000'],
    ['DB_STATEMENT_TIMEOUT_MS', '600001', 'integer from 100 to 600000'],
    ['DB_STATEMENT_TIMEOUT_MS', '2s', 'integer from 100 to 600000'],
    ['RATE_LIMIT_SEARCH_PER_MINUTE', '-1', 'integer from 0 to 1000000'],
    ['TRUSTED_PROXY_CIDRS', '10.0.0.0/33', 'CIDR ranges like 10.0.0.0/8'],
    ['TRUSTED_PROXY_CIDRS', '10.0.0.0/8, ingress', 'got "ingress"'],
    ['CACHE_KEY_PREFIX', 'two words', 'letters, digits and . _ : / -'],
    ['CACHE_KEY_PREFIX', 'x'.repeat(201), 'max 200'],
  ])('when %s is "%s", then the error names it and says what was expected', (name, value, expected) => {
    const err = errorFor({ ...BASE, [name]: value });
    expect(err.variable).toBe(name);
    expect(err.message).toContain(name);
    expect(err.message).toContain(expected);
  });

  describe('sign-in (OIDC_*)', () => {
    const ISSUER = {
      ...BASE,
      OIDC_ISSUER_URL: 'https://login.example.com/realms/memo',
      OIDC_AUDIENCE: 'memo-api',
    };

    it('when an issuer and audience are set, then the claim settings take their defaults', () => {
      expect(loadConfig(ISSUER).auth).toEqual({
        issuerUrl: 'https://login.example.com/realms/memo',
        audience: 'memo-api',
        rolesClaim: 'groups',
        adminRole: undefined,
        nameClaim: 'name',
        requiredForReads: false,
      });
    });

    it('when every sign-in variable is set, then each is parsed', () => {
      const auth = loadConfig({
        ...ISSUER,
        OIDC_ROLES_CLAIM: 'realm_access.roles',
        OIDC_ADMIN_ROLE: 'memo-admin',
        OIDC_NAME_CLAIM: 'nickname',
        AUTH_REQUIRED_FOR_READS: 'true',
      }).auth;
      expect(auth).toMatchObject({
        rolesClaim: 'realm_access.roles',
        adminRole: 'memo-admin',
        nameClaim: 'nickname',
        requiredForReads: true,
      });
    });

    it('when the issuer is plain http on a loopback host, then it is accepted (a test provider)', () => {
      for (const issuer of [
        'http://127.0.0.1:5556/dex',
        'http://localhost:8080/realms/x',
        'http://[::1]:9000',
      ]) {
        expect(loadConfig({ ...ISSUER, OIDC_ISSUER_URL: issuer }).auth?.issuerUrl).toBe(issuer);
      }
    });

    it.each([
      ['OIDC_AUDIENCE', undefined, 'is required with OIDC_ISSUER_URL'],
      ['AUTH_REQUIRED_FOR_READS', 'yes', 'true or false'],
      ['OIDC_ROLES_CLAIM', 'roles claim', 'a claim name'],
      ['OIDC_NAME_CLAIM', 'na"me', 'a claim name'],
      ['OIDC_ADMIN_ROLE', 'memo\tadmin', 'must not contain control characters'],
    ])('when %s is %s with an issuer, then the error names it', (name, value, expected) => {
      const err = errorFor({ ...ISSUER, [name]: value });
      expect(err.variable).toBe(name);
      expect(err.message).toContain(expected);
    });
  });
});

describe('loadMigrationDatabaseConfig', () => {
  const MIGRATION = {
    DB_HOST: 'memo-mariadb',
    DB_MIGRATION_USER: 'memo_migrator',
    DB_MIGRATION_PASSWORD: 'ddl secret ',
  };

  it('when the migration account is set, then it logs in with that account, password verbatim', () => {
    expect(loadMigrationDatabaseConfig({ ...MIGRATION, DB_PORT: '3307', DB_POOL_MAX: '2' })).toEqual({
      host: 'memo-mariadb',
      port: 3307,
      name: 'memos',
      user: 'memo_migrator',
      password: 'ddl secret ',
      poolMax: 2,
    });
  });

  it("when only the API's account is set, then it refuses to migrate with it and names the missing variable", () => {
    const apiOnly = { DB_HOST: 'memo-mariadb', DB_USER: 'memo', DB_PASSWORD: 's3cret' };
    expect(() => loadMigrationDatabaseConfig(apiOnly)).toThrow(
      new ConfigError('DB_MIGRATION_USER', 'is required but not set'),
    );
    expect(() => loadMigrationDatabaseConfig({ ...apiOnly, DB_MIGRATION_USER: 'memo_migrator' })).toThrow(
      new ConfigError('DB_MIGRATION_PASSWORD', 'is required but not set'),
    );
  });

  it('when the API loads its config, then it never reads the migration account', () => {
    const config = loadConfig({ ...BASE, DB_MIGRATION_USER: 'memo_migrator', DB_MIGRATION_PASSWORD: 'x' });
    expect(config.db.user).toBe('memo');
    expect(JSON.stringify(config)).not.toContain('memo_migrator');
  });
});
