/**
 * PromQL selectors scoped to one stack, the way monitoring mixins (kubernetes-mixin, the MySQL
 * mixin) write every query against a selector config. A Prometheus shared by several stacks
 * (operator mode) holds series with the same metric names and job names from each of them; a
 * rule that reads them all lets another stack's healthy exporters mask an outage here
 * (`count(mysql_up == 1) < 1` counts theirs too) and their outages page this stack.
 */

/** What identifies one component's series of one stack, as its scrape config labels them. */
export interface SeriesSelectorConfig {
  /** The `job` label: the scrape job (standalone) or the Service a ServiceMonitor scrapes through. */
  readonly job: string;
  /** The `namespace` label: the namespace of the scraped pods. */
  readonly namespace: string;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** RE2's metacharacters, which Prometheus' `=~` matchers use. */
const REGEX_METACHARACTERS = /[.*+?^${}()|[\]\\]/g;

/** How a label matcher compares: PromQL's `=` and `=~`. */
export enum MatchOperator {
  /** `=`: the label value equals the value. */
  EQUAL = '=',
  /** `=~`: the whole label value matches the RE2 pattern. */
  REGEX = '=~',
}

/** One label matcher of a PromQL vector selector: `state="used"`, `status=~"5.."`. */
export class LabelMatcher {
  /** `name="value"`. */
  public static equal(name: string, value: string): LabelMatcher {
    return new LabelMatcher(name, MatchOperator.EQUAL, value);
  }

  /** `name=~"pattern"`: the whole label value matches the RE2 `pattern` (Prometheus anchors it). */
  public static regex(name: string, pattern: string): LabelMatcher {
    return new LabelMatcher(name, MatchOperator.REGEX, pattern);
  }

  /** `name=~"a|b"`: the label value is one of `values`, each matched literally. */
  public static anyOf(name: string, values: string[]): LabelMatcher {
    if (values.length === 0) {
      throw new Error(`LabelMatcher.anyOf: values of "${name}" must not be empty (it would match only "")`);
    }
    return LabelMatcher.regex(name, values.map((v) => v.replace(REGEX_METACHARACTERS, '\\$&')).join('|'));
  }

  private constructor(
    /** The label name. */
    public readonly name: string,
    /** How the label value is compared. */
    public readonly operator: MatchOperator,
    /** The value or pattern. */
    public readonly value: string,
  ) {
    if (!LABEL_NAME.test(name)) {
      throw new Error(`LabelMatcher: label name must match ${String(LABEL_NAME)}, got "${name}"`);
    }
  }

  /** The matcher as PromQL text; the value is a double-quoted string literal. */
  public toString(): string {
    // JSON's escapes (\" \\ \n \uXXXX) are a subset of the Go escapes PromQL strings accept.
    return `${this.name}${this.operator}${JSON.stringify(this.value)}`;
  }
}

/**
 * The series of one component of one stack: renders `metric{job="…",namespace="…"}` for every
 * vector selector of its alert rules and dashboard queries, so none can read another stack's.
 */
export class SeriesSelector {
  public readonly job: string;
  public readonly namespace: string;
  private readonly scope: readonly LabelMatcher[];

  public constructor(config: SeriesSelectorConfig) {
    for (const key of ['job', 'namespace'] as const) {
      if (typeof config[key] !== 'string' || config[key] === '') {
        // An empty matcher value selects series *without* the label: none of ours.
        throw new Error(
          `SeriesSelector: ${key} must be a non-empty label value, got "${String(config[key])}"`,
        );
      }
    }
    this.job = config.job;
    this.namespace = config.namespace;
    this.scope = [LabelMatcher.equal('job', this.job), LabelMatcher.equal('namespace', this.namespace)];
  }

  /**
   * A vector selector of `metric` among this component's series, narrowed further by `extra`:
   * `series('db_pool_connections', LabelMatcher.equal('state', 'used'))` gives
   * `db_pool_connections{job="memo-api",namespace="memo",state="used"}`.
   */
  public series(metric: string, ...extra: LabelMatcher[]): string {
    if (!METRIC_NAME.test(metric)) {
      throw new Error(`SeriesSelector.series: metric must match ${String(METRIC_NAME)}, got "${metric}"`);
    }
    const clash = extra.find((m) => m.name === 'job' || m.name === 'namespace');
    if (clash !== undefined) {
      throw new Error(`SeriesSelector.series: ${clash.name} is the selector's own, got a matcher ${clash}`);
    }
    return `${metric}{${[...this.scope, ...extra].join(',')}}`;
  }
}
