import { createLocalJWKSet, errors as joseErrors, JSONWebKeySet, JWSHeaderParameters } from 'jose';
import type { Logger } from '../logger';

/** A key jose can verify with, as createLocalJWKSet resolves it. */
type VerificationKey = Awaited<ReturnType<ReturnType<typeof createLocalJWKSet>>>;

/** The issuer's keys could not be loaded even once: no token can be checked yet (a 503, not a 401). */
export class KeysUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`the identity provider's signing keys could not be loaded: ${messageOf(cause)}`, { cause });
    this.name = 'KeysUnavailableError';
  }
}

/** No key of the issuer matches the token's header, even after a refetch (or a refetch was not allowed yet). */
export class UnknownKeyError extends Error {
  constructor(readonly kid: unknown) {
    // The kid is the client's text: shown short and as JSON, never raw.
    super(
      typeof kid !== 'string'
        ? 'no signing key of the issuer matches the token'
        : `unknown key id '${kid.slice(0, 64).replace(/[^\x20-\x7e]|['"\\]/g, '?')}'`,
    );
    this.name = 'UnknownKeyError';
  }
}

export interface KeySetOptions {
  /** The issuer exactly as configured; discovery is `<issuer>/.well-known/openid-configuration`. */
  readonly issuer: string;
  readonly logger: Logger;
  /**
   * Fewest milliseconds between two fetches of the JWKS caused by requests (an unknown `kid`, or no
   * keys yet). A flood of tokens with made-up key ids then costs one fetch per interval, not one each.
   * @default JWKS_MIN_REFETCH_INTERVAL_MS
   */
  readonly minRefetchIntervalMs?: number;
  /** Keys older than this are refreshed in the background while the cached ones keep serving. @default JWKS_MAX_AGE_MS */
  readonly maxAgeMs?: number;
  /** Bound of each HTTP request to the issuer. @default ISSUER_FETCH_TIMEOUT_MS */
  readonly fetchTimeoutMs?: number;
  /** The clock, in milliseconds (tests move it instead of waiting). */
  readonly now?: () => number;
}

export const JWKS_MIN_REFETCH_INTERVAL_MS = 30_000;
export const JWKS_MAX_AGE_MS = 10 * 60_000;
export const ISSUER_FETCH_TIMEOUT_MS = 5_000;
/** A discovery document or JWKS larger than this is not one (a JWKS of 20 RSA keys is about 10 KiB). */
const MAX_DOCUMENT_BYTES = 512 * 1024;
/** Startup retries (discovery while the issuer is down) back off to at most this. */
const MAX_RETRY_DELAY_MS = 30_000;

/** The issuer's signing keys, as the verifier and readiness use them. */
export interface KeySet {
  /**
   * The key for a token's protected header (jose's key resolver). Throws UnknownKeyError when no
   * key matches even after the refetch it may trigger, KeysUnavailableError when no key was ever loaded.
   */
  keyFor(header: JWSHeaderParameters): Promise<VerificationKey>;
  /**
   * Starts loading the keys in the background, retrying with backoff until they are loaded, so
   * the service starts (and serves reads) while the issuer is briefly unreachable.
   */
  start(): void;
  /** Ends the background retries. */
  stop(): void;
  /** Whether verification can work now: keys have been loaded at least once. */
  loaded(): boolean;
  /** Resolves once no fetch is in flight (whatever its outcome). */
  idle(): Promise<void>;
  /** Fetch attempts so far (discovery and JWKS together count as one). */
  fetchCount(): number;
  /** Increases each time a fetch replaces the keys: what was verified with an older set is checked again. */
  version(): number;
}

/**
 * The issuer's signing keys: found through its discovery document (`jwks_uri`), fetched on first
 * need, cached, and kept when a later fetch fails, so tokens signed by known keys still verify
 * while the provider is down. A token naming a key not in the cache triggers a refetch (key
 * rotation without a restart), at most one per `minRefetchIntervalMs`; concurrent requests share
 * the fetch in flight. Old keys are refreshed in the background (stale while revalidate), so a
 * request never waits for a routine refresh.
 */
export function createKeySet(options: KeySetOptions): KeySet {
  const { issuer, logger } = options;
  const minInterval = options.minRefetchIntervalMs ?? JWKS_MIN_REFETCH_INTERVAL_MS;
  const maxAge = options.maxAgeMs ?? JWKS_MAX_AGE_MS;
  const timeoutMs = options.fetchTimeoutMs ?? ISSUER_FETCH_TIMEOUT_MS;
  const now = options.now ?? Date.now;
  const discoveryUrl = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;

  let jwksUri: string | undefined;
  let resolve: ReturnType<typeof createLocalJWKSet> | undefined;
  let loadedAt = 0;
  let lastAttemptAt: number | undefined;
  let lastError: unknown;
  let inFlight: Promise<void> | undefined;
  let fetches = 0;
  let loads = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  let stopped = false;

  async function getJson(url: string, what: string): Promise<unknown> {
    const response = await fetch(url, {
      headers: { accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (response.status !== 200) throw new Error(`${what} ${url} answered ${response.status}`);
    const text = await response.text();
    if (Buffer.byteLength(text) > MAX_DOCUMENT_BYTES)
      throw new Error(`${what} ${url} is larger than ${MAX_DOCUMENT_BYTES} bytes`);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new Error(`${what} ${url} is not JSON`);
    }
  }

  async function discover(): Promise<string> {
    const doc = (await getJson(discoveryUrl, 'discovery document')) as {
      issuer?: unknown;
      jwks_uri?: unknown;
    };
    // Discovery 1.0, 4.3: the document must name the issuer it was fetched for, exactly.
    if (doc?.issuer !== issuer) {
      throw new Error(
        `discovery document names issuer ${JSON.stringify(doc?.issuer)}, expected ${JSON.stringify(issuer)}`,
      );
    }
    if (typeof doc.jwks_uri !== 'string') throw new Error('discovery document has no jwks_uri');
    const uri = new URL(doc.jwks_uri);
    if (uri.protocol !== 'https:' && uri.protocol !== new URL(issuer).protocol) {
      throw new Error(`jwks_uri ${doc.jwks_uri} must use https`);
    }
    return uri.href;
  }

  async function fetchKeys(): Promise<void> {
    fetches++;
    lastAttemptAt = now();
    try {
      jwksUri ??= await discover();
      const jwks = (await getJson(jwksUri, 'JWKS')) as JSONWebKeySet;
      if (!Array.isArray(jwks?.keys)) throw new Error(`JWKS ${jwksUri} has no "keys" array`);
      const first = resolve === undefined;
      // createLocalJWKSet validates the set and matches a header to a key by kid, alg, kty and use.
      resolve = createLocalJWKSet(jwks);
      loads++;
      loadedAt = now();
      lastError = undefined;
      logger[first ? 'info' : 'debug']('issuer signing keys loaded', { issuer, keys: jwks.keys.length });
    } catch (err) {
      lastError = err;
      // The cache (if any) stays: the keys it holds still verify the tokens they signed.
      logger.warn('issuer signing keys could not be fetched; the cached keys stay in use', {
        issuer,
        error: messageOf(err),
        cached: resolve !== undefined,
      });
      throw err;
    }
  }

  /** One fetch at a time; callers arriving meanwhile wait for the same one. */
  function refetch(): Promise<void> {
    inFlight ??= fetchKeys().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  const mayRefetch = (): boolean => lastAttemptAt === undefined || now() - lastAttemptAt >= minInterval;

  function refreshInBackground(): void {
    if (inFlight !== undefined || !mayRefetch() || now() - loadedAt < maxAge) return;
    refetch().catch(() => undefined);
  }

  async function ensureLoaded(): Promise<ReturnType<typeof createLocalJWKSet>> {
    if (resolve === undefined) {
      if (inFlight !== undefined || mayRefetch()) await refetch().catch((err: unknown) => (lastError = err));
      if (resolve === undefined) throw new KeysUnavailableError(lastError);
    }
    return resolve;
  }

  function scheduleRetry(delayMs: number): void {
    if (stopped || resolve !== undefined) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      refetch().then(
        () => undefined,
        () => scheduleRetry(Math.min(delayMs * 2, MAX_RETRY_DELAY_MS)),
      );
    }, delayMs);
    retryTimer.unref();
  }

  return {
    async keyFor(header: JWSHeaderParameters): Promise<VerificationKey> {
      const current = await ensureLoaded();
      refreshInBackground();
      try {
        return await current(header);
      } catch (err) {
        if (!(err instanceof joseErrors.JWKSNoMatchingKey)) throw err;
      }
      if (inFlight === undefined && !mayRefetch()) throw new UnknownKeyError(header.kid);
      await refetch().catch(() => undefined);
      try {
        return await (resolve as ReturnType<typeof createLocalJWKSet>)(header);
      } catch (err) {
        if (err instanceof joseErrors.JWKSNoMatchingKey) throw new UnknownKeyError(header.kid);
        throw err;
      }
    },

    start(): void {
      if (resolve !== undefined || inFlight !== undefined) return;
      refetch().catch(() => scheduleRetry(1_000));
    },

    stop(): void {
      stopped = true;
      if (retryTimer !== undefined) clearTimeout(retryTimer);
    },

    loaded(): boolean {
      return resolve !== undefined;
    },

    async idle(): Promise<void> {
      await inFlight?.catch(() => undefined);
    },

    fetchCount(): number {
      return fetches;
    },

    version(): number {
      return loads;
    },
  };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
