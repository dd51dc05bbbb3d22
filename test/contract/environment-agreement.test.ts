import * as path from 'path';
import { Testing } from 'cdk8s';
import * as config from '../../app/src/config';
import { Entry, sourceOf, Variable, VariableName, VARIABLES } from '../../app/src/config/contract';
import { ListEntry, Shape } from '../../app/src/config/kinds';
import {
  ICacheEndpoint,
  IDatabaseEndpoint,
  IEventsEndpoint,
  SecretKeyReference,
} from '../../charts/endpoints';
import { MemoApi, MemoApiProps } from '../../charts/api/memo-api';
import { loadersCalledBy, variablesReadBy } from './config-reads';

/*
 * MemoApi and the service judge every variable of the environment contract alike: for each
 * variable a prop sets, values at and just past each bound of its kind (every member of an
 * enum and a non-member) are built into a MemoApi and loaded by the service's own loaders, and
 * both must accept exactly the values within the bounds. A bound added on one side only (in
 * the construct or in the loader, beside the table) makes one side refuse a value at the
 * table's bound that the other accepts.
 */

const APP_SRC = path.join(__dirname, '..', '..', 'app', 'src');
/** The program of each entry; the test runs the loaders it calls, as it calls them. */
const ENTRY_FILES: Record<Entry, string> = {
  service: path.join(APP_SRC, 'index.ts'),
  migrations: path.join(APP_SRC, 'migrate.ts'),
};
const LOADERS = variablesReadBy(path.join(APP_SRC, 'config', 'index.ts'));
const loadersOf = (entry: Entry): string[] => loadersCalledBy(ENTRY_FILES[entry], LOADERS.keys());

interface Probe {
  readonly value: unknown;
  /** Whether the kind's bounds admit the value. */
  readonly inBounds: boolean;
}

const probe = (value: unknown, inBounds: boolean): Probe => ({ value, inBounds });

/** Entries of a list, at and past the bounds of each entry's format. */
const ENTRY_PROBES: Record<ListEntry, readonly Probe[]> = {
  hostPort: [
    probe('kafka:1', true),
    probe('kafka:0', false),
    probe('kafka:65535', true),
    probe('kafka:65536', false),
    probe('kafka', false),
  ],
  origin: [
    probe('*', true),
    probe('https://memo.example.com', true),
    probe('http://localhost:5173', true),
    probe('https://memo.example.com/app', false),
    probe('https://Memo.example.com', false),
    probe('memo.example.com', false),
  ],
  cidr: [
    probe('10.0.0.0/32', true),
    probe('10.0.0.0/33', false),
    probe('fd00::/128', true),
    probe('fd00::/129', false),
    probe('10.0.0.1', true),
    probe('ingress-nginx', false),
  ],
};

function probesOf(shape: Shape, required: boolean): Probe[] {
  switch (shape.type) {
    case 'integer':
      return [
        probe(shape.min - 1, false),
        probe(shape.min, true),
        probe(shape.max, true),
        probe(shape.max + 1, false),
        probe(shape.min + 0.5, false),
      ];
    case 'oneOf':
      // trace and fatal are levels of other loggers, which MemoApi once let through.
      return [...shape.values.map((v) => probe(v, true)), probe('verbose', false), probe('trace', false)];
    case 'name':
      return [
        probe('a'.repeat(shape.maxLength), true),
        probe('a'.repeat(shape.maxLength + 1), false),
        probe('a b', false),
        ...shape.reserved.map((r) => probe(r, false)),
      ];
    case 'text':
      return [
        probe('memo admin', true),
        probe('m'.repeat(4096), true),
        probe('memo\tadmin', shape.controlCharacters),
        probe('memo\u007fadmin', shape.controlCharacters),
      ];
    case 'boolean':
      return [probe(true, true), probe(false, true), probe('yes', false)];
    case 'hostName':
      return [probe('memo-mariadb.memo.svc', true), probe('[::1]', true), probe('memo mariadb', false)];
    case 'issuerUrl': {
      const root = 'https://login.example.com/';
      return [
        probe('https://login.example.com/realms/memo', true),
        probe('http://127.0.0.1:5556/dex', true),
        probe('http://login.example.com', false),
        probe('https://login.example.com/?tenant=1', false),
        probe('https://login.example.com/#top', false),
        probe('https://user:pw@login.example.com', false),
        probe(root + 'r'.repeat(shape.maxLength - root.length), true),
        probe(root + 'r'.repeat(shape.maxLength - root.length + 1), false),
      ];
    }
    case 'list': {
      const entries = ENTRY_PROBES[shape.entry];
      const good = entries.filter((p) => p.inBounds).map((p) => p.value);
      const bad = entries.filter((p) => !p.inBounds).map((p) => p.value);
      return [
        probe([], !required && !shape.atLeastOne),
        ...entries.map((p) => probe([p.value], p.inBounds)),
        probe(good.slice(0, 2), true),
        probe([good[0], bad[0]], false),
      ];
    }
    case 'secret':
      // A Secret's value never passes through MemoApi.
      return [];
  }
}

const database: IDatabaseEndpoint = {
  host: 'memo-mariadb',
  namespace: 'memo',
  port: 3306,
  podSelectorLabels: { app: 'db' },
  databaseName: 'memos',
  username: 'memo',
  passwordSecret: { secretName: 'memo-mariadb-credentials', key: 'password' },
  migrationUsername: 'memo_migrator',
  migrationPasswordSecret: { secretName: 'memo-mariadb-credentials', key: 'migration-password' },
};
const cache: ICacheEndpoint = {
  host: 'memo-redis',
  namespace: 'memo',
  port: 6379,
  podSelectorLabels: { app: 'cache' },
  passwordSecret: { secretName: 'memo-redis-credentials', key: 'password' },
};
const events: IEventsEndpoint = {
  host: 'memo-kafka-bootstrap',
  namespace: 'memo',
  port: 9092,
  podSelectorLabels: { app: 'kafka' },
  bootstrapServers: 'memo-kafka-bootstrap.memo.svc:9092',
  declaredTopics: () => undefined,
};
type Props = Record<string, unknown>;

/** Sign-in on, so that every OIDC_* variable is in effect. */
const BASE: Props = {
  database,
  cache,
  events,
  oidcIssuerUrl: 'https://login.example.com/realms/memo',
  oidcAudience: 'memo-api',
} satisfies MemoApiProps;

/** `props` with the value at `dotted` replaced, copying every object on the way. */
function withValue(props: Props, dotted: string, value: unknown): Props {
  const [head, ...rest] = dotted.split('.');
  return {
    ...props,
    [head]: rest.length === 0 ? value : withValue(props[head] as Props, rest.join('.'), value),
  };
}

function build(props: Props): MemoApi | Error {
  try {
    return new MemoApi(Testing.chart(), 'api', props as unknown as MemoApiProps);
  } catch (error) {
    return error as Error;
  }
}

/** The environment as the kubelet gives it: Secret references filled with test values. */
const filled = (
  environment: Record<string, string>,
  secrets: Record<string, SecretKeyReference>,
): Record<string, string> => ({
  ...environment,
  ...Object.fromEntries(
    Object.entries(secrets).map(([name, ref]) => [name, `test-${ref.secretName}-${ref.key}`]),
  ),
});

function environmentOf(api: MemoApi, entry: Entry): Record<string, string> {
  return entry === 'service'
    ? filled(api.environment, api.secretEnvironment)
    : filled(api.migrationEnvironment, api.migrationSecretEnvironment);
}

/** Runs the loaders the entry runs at start; the first refusal, or undefined when it would start. */
function refusalAtStart(entry: Entry, env: Record<string, string>): Error | undefined {
  const loaders = config as unknown as Record<string, (env: Record<string, string>) => unknown>;
  for (const loader of loadersOf(entry)) {
    try {
      loaders[loader](env);
    } catch (error) {
      return error as Error;
    }
  }
  return undefined;
}

const baseApi = build(BASE);
const variables = Object.entries(VARIABLES) as Array<[VariableName, Variable<unknown>]>;
const setByProps = variables.filter(([, v]) => 'prop' in v.setBy);
const setOtherwise = variables.filter(([, v]) => !('prop' in v.setBy));

describe('the environment contract: MemoApi and the service agree', () => {
  test('when MemoApi is built from the base props, then it succeeds (the probes start from it)', () => {
    expect(baseApi).toBeInstanceOf(MemoApi);
  });

  test.each(setByProps.map(([name, v]) => [sourceOf(name), name, v] as const))(
    'when %s sets %s at and past its bounds, then MemoApi and the service accept exactly the values within them',
    (prop, name, variable) => {
      const required = 'required' in variable.default;
      const probes = probesOf(variable.kind.shape, required);
      expect(probes.length).toBeGreaterThan(0);
      const asText = 'asText' in variable.setBy;
      const verdicts = probes.map(({ value, inBounds }) => {
        const built = build(withValue(BASE, prop, asText ? variable.kind.format(value) : value));
        const refusals = variable.readBy.map((entry) => {
          const env =
            built instanceof MemoApi
              ? environmentOf(built, entry)
              : { ...environmentOf(baseApi as MemoApi, entry), [name]: variable.kind.format(value) };
          return refusalAtStart(entry, env)?.message;
        });
        const service = refusals.find((r) => r !== undefined);
        return {
          value,
          bounds: inBounds ? 'within' : 'past',
          memoApi: built instanceof MemoApi ? 'accepts' : 'refuses',
          service: service === undefined ? 'accepts' : 'refuses',
          // MemoApi's refusal names the prop; the service's names the variable.
          messages:
            (built instanceof Error && !built.message.includes(`MemoApi: ${prop}`)) ||
            (service !== undefined && !service.startsWith(`${name}: `))
              ? [built instanceof Error ? built.message : '', service]
              : 'name the prop and the variable',
        };
      });
      const expected = verdicts.map((v) => ({
        ...v,
        memoApi: v.bounds === 'within' ? 'accepts' : 'refuses',
        service: v.bounds === 'within' ? 'accepts' : 'refuses',
        messages: 'name the prop and the variable',
      }));
      expect(verdicts).toEqual(expected);
    },
  );

  test.each(setOtherwise.map(([name, v]) => [name, sourceOf(name), v] as const))(
    'when MemoApi sets %s from %s, then every entry that reads it gets it and starts',
    (name, _source, variable) => {
      const api = baseApi as MemoApi;
      for (const entry of variable.readBy) {
        const env = environmentOf(api, entry);
        expect({ entry, name, set: name in env }).toEqual({ entry, name, set: true });
        expect(refusalAtStart(entry, env)).toBeUndefined();
      }
    },
  );

  test.each(Object.keys(ENTRY_FILES) as Entry[])(
    'when the %s entry starts, then its loaders read exactly the variables the table gives it',
    (entry) => {
      const loaders = loadersOf(entry);
      expect(loaders.length).toBeGreaterThan(0);
      const reads = [...new Set(loaders.flatMap((l) => [...(LOADERS.get(l) ?? [])]))].sort();
      const table = variables.filter(([, v]) => v.readBy.includes(entry)).map(([name]) => name);
      expect(reads).toEqual(table.sort());
    },
  );
});
