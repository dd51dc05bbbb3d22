/** What a passing check did, so a test or the CLI can print it. */
export interface CheckReport {
  readonly program: string;
  /** Wall time of the whole check, including starting and stopping daemons. */
  readonly ms: number;
  /** The settings the check replaced with local values (never the config's own tuning). */
  readonly overrides: readonly string[];
  /** What the program printed (logs of a daemon, stdout of a checker). */
  readonly output: string;
}
