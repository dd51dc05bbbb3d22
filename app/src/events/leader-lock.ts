import { createConnection, Connection, RowDataPacket } from 'mysql2/promise';
import type { DatabaseConfig } from '../config';
import type { Logger } from '../logger';

/** The MariaDB user lock that makes one replica's relay the only active one. */
export const RELAY_LOCK_NAME = 'memo_outbox_relay';

/**
 * User locks are global to the MariaDB server, not to a database: the database name is part
 * of the lock name so two deployments (or test suites) sharing a server each get a relay.
 * MariaDB refuses names over 64 characters.
 */
export function relayLockName(database: string): string {
  return `${RELAY_LOCK_NAME}.${database}`.slice(0, 64);
}

export interface LeaderLock {
  /** Tries to take the lock without waiting; true while this replica holds it. */
  tryAcquire(): Promise<boolean>;
  /**
   * True when the lock is still held by this replica's session. Checked before every batch:
   * if the session died, the server released the lock and another replica may lead now.
   */
  stillHeld(): Promise<boolean>;
  /** The last known state, without a round trip: false as soon as the session is known dead. */
  isHeld(): boolean;
  /** Releases the lock (if held) and closes the session. */
  close(): Promise<void>;
}

/**
 * GET_LOCK belongs to a session, so the lock lives on its own connection, outside the knex
 * pool: a pooled connection would be handed to requests and reset, and holding one for ever
 * would shrink the pool the API needs.
 */
export function createLeaderLock(
  config: DatabaseConfig,
  logger: Logger,
  name = relayLockName(config.name),
): LeaderLock {
  let conn: Connection | undefined;
  let held = false;

  function drop(reason: unknown): void {
    if (held) logger.warn('outbox relay lost leadership', { reason: String(reason) });
    held = false;
    const dead = conn;
    conn = undefined;
    dead?.destroy();
  }

  async function session(): Promise<Connection> {
    if (conn) return conn;
    const fresh = await createConnection({
      host: config.host,
      port: config.port,
      user: config.user,
      password: config.password,
      database: config.name,
      connectTimeout: 5_000,
    });
    // Without a listener a dropped session would be an uncaught 'error' event and crash the pod.
    fresh.on('error', (err: Error) => {
      if (conn === fresh) drop(err);
    });
    conn = fresh;
    return fresh;
  }

  async function query(sql: string, params: unknown[]): Promise<RowDataPacket[]> {
    const c = await session();
    try {
      // A black-holed database must not freeze the relay loop: time out and drop the session.
      const [rows] = await c.query<RowDataPacket[]>({ sql, timeout: 5_000 }, params);
      return rows;
    } catch (err) {
      drop(err);
      throw err;
    }
  }

  return {
    async tryAcquire() {
      const [row] = await query('SELECT GET_LOCK(?, 0) AS got', [name]);
      held = row?.got === 1;
      return held;
    },

    async stillHeld() {
      if (!held || !conn) return false;
      const [row] = await query('SELECT IS_USED_LOCK(?) = CONNECTION_ID() AS mine', [name]);
      if (row?.mine !== 1) drop('lock no longer owned by this session');
      return held;
    },

    isHeld: () => held,

    async close() {
      const c = conn;
      conn = undefined;
      const wasHeld = held;
      held = false;
      if (!c) return;
      // Bounded: a shutdown must not hang on an unreachable database. Destroying the socket
      // releases the lock too, once the server notices.
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), 2000);
      });
      const graceful = (async () => {
        if (wasHeld) await c.query('SELECT RELEASE_LOCK(?)', [name]);
        await c.end();
      })();
      try {
        if ((await Promise.race([graceful, timeout])) === 'timeout') c.destroy();
      } catch {
        c.destroy();
      } finally {
        clearTimeout(timer);
        graceful.catch(() => undefined);
      }
    },
  };
}
