import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The test MariaDB account as scripts/services/up.sh creates it (test-db.env, one place). */
export interface TestDbAccount {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
}

function readEnvFile(file: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line);
    if (match) values[match[1]] = match[2];
  }
  return values;
}

/**
 * The account, each field taken from `<prefix>HOST/PORT/USER/PASSWORD` in env when set there
 * (tests use TEST_DB_, benchmarks BENCH_DB_), else from test-db.env.
 */
export function testDbAccount(env: NodeJS.ProcessEnv, prefix: string): TestDbAccount {
  const file = readEnvFile(path.join(__dirname, 'test-db.env'));
  const pick = (field: string): string => env[`${prefix}${field}`] ?? file[`TEST_DB_${field}`] ?? '';
  return { host: pick('HOST'), port: Number(pick('PORT')), user: pick('USER'), password: pick('PASSWORD') };
}
