/** The server's accounts: the credentials Secret's keys, the accounts the image and this construct create, and their grants. */

/** Keys of the credentials Secret. */
export const MARIADB_SECRET_KEYS = {
  /** The `root` account's password (bootstrap and administration only). */
  ROOT_PASSWORD: 'root-password',
  /** The application account's password (data statements on the database only). */
  PASSWORD: 'password',
  /** The migration account's password (the schema owner: DDL on the database only). */
  MIGRATION_PASSWORD: 'migration-password',
  /** The mysqld-exporter account's password (PROCESS and REPLICA MONITOR only). */
  EXPORTER_PASSWORD: 'exporter-password',
  /** The replication account's password; read only when replicas > 1. */
  REPLICATION_PASSWORD: 'replication-password',
} as const;

export const EXPORTER_USERNAME = 'exporter';
export const REPLICATION_USERNAME = 'replicator';

/** The container variables the accounts script reads the two passwords from. */
export const ACCOUNT_PASSWORD_ENV = {
  app: 'APP_USER_PASSWORD',
  migration: 'MIGRATION_USER_PASSWORD',
} as const;
/** Accounts the image or this construct creates for itself. */
export const SYSTEM_USERNAMES: readonly string[] = [
  EXPORTER_USERNAME,
  REPLICATION_USERNAME,
  'root',
  'healthcheck',
  'mysql',
];

/** What each account may do on the app's database; neither has a right on any other database. */
export const MARIADB_ACCOUNT_GRANTS = {
  /** The application: rows only. GET_LOCK and SELECT ... FOR UPDATE SKIP LOCKED need no more. */
  app: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
  /** The schema owner: migrations (DDL plus the data changes a migration makes) and backups. */
  migration: [
    'SELECT',
    'INSERT',
    'UPDATE',
    'DELETE',
    'CREATE',
    'DROP',
    'ALTER',
    'INDEX',
    'REFERENCES',
    'CREATE VIEW',
    'SHOW VIEW',
    'TRIGGER',
  ],
} as const;
