import type { Middleware } from 'koa';
import type { AuthConfig } from '../config';
import type { Logger } from '../logger';
import { createKeySet, KeySetOptions } from './key-set';
import { AuthenticatedState, authenticate } from './middleware';
import { createTokenVerifier, TokenVerifierOptions } from './verifier';

/** What tests and benchmarks tune besides the configuration: refetch bounds and clock leeway. */
export type AuthTuning = Partial<
  Pick<KeySetOptions, 'minRefetchIntervalMs' | 'maxAgeMs' | 'fetchTimeoutMs'>
> &
  Pick<TokenVerifierOptions, 'clockLeewaySeconds'>;

export interface Auth {
  /** Koa middleware for /api/: verifies the bearer token where one is needed. */
  readonly middleware: Middleware<AuthenticatedState>;
  /** Whether the issuer's signing keys have been loaded (readiness reports it). */
  keysLoaded(): boolean;
  /** Stops the background retries of a first key load that keeps failing. */
  stop(): void;
}

/**
 * Wires the key set, the verifier and the middleware for one issuer, and starts loading the keys
 * in the background: the service starts while the issuer is briefly down, and the first write
 * usually finds the keys already there.
 */
export function createAuth(config: AuthConfig, logger: Logger, tuning: AuthTuning = {}): Auth {
  const { clockLeewaySeconds, ...keyOptions } = tuning;
  const keys = createKeySet({ issuer: config.issuerUrl, logger, ...keyOptions });
  const verify = createTokenVerifier({ ...config, issuer: config.issuerUrl, keys, clockLeewaySeconds });
  keys.start();
  return {
    middleware: authenticate({ verify, requiredForReads: config.requiredForReads }),
    keysLoaded: () => keys.loaded(),
    stop: () => keys.stop(),
  };
}
