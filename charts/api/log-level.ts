/**
 * The lowest level the memo service logs (its LOG_LEVEL): the levels of its logger, nothing else.
 * The values are the service's own (`LOG_LEVELS` in app/src/config/contract.ts; a test keeps the
 * two equal).
 */
export enum LogLevel {
  DEBUG = 'debug',
  INFO = 'info',
  WARN = 'warn',
  ERROR = 'error',
}
