import { LabelMatcher, SeriesSelector } from '../../charts/series-selector';

const mariadb = new SeriesSelector({ job: 'memo-mariadb-headless', namespace: 'memo-a' });

describe('SeriesSelector', () => {
  test('when a series is selected, then the job and namespace matchers come first in its braces', () => {
    expect(mariadb.series('mysql_up')).toBe('mysql_up{job="memo-mariadb-headless",namespace="memo-a"}');
  });

  test('when further matchers are given, then they follow the scope in the order given', () => {
    expect(
      mariadb.series(
        'http_requests_total',
        LabelMatcher.regex('status', '5..'),
        LabelMatcher.equal('method', 'GET'),
      ),
    ).toBe('http_requests_total{job="memo-mariadb-headless",namespace="memo-a",status=~"5..",method="GET"}');
  });

  test('when a matcher names job or namespace, then it throws: the scope cannot be widened or replaced', () => {
    expect(() => mariadb.series('mysql_up', LabelMatcher.regex('namespace', '.*'))).toThrow(
      /namespace is the selector's own, got a matcher namespace=~"\.\*"/,
    );
  });

  test.each([
    [{ job: '', namespace: 'memo' }, /job must be a non-empty label value, got ""/],
    [{ job: 'memo-api', namespace: '' }, /namespace must be a non-empty label value, got ""/],
  ])('when built from %j, then it throws naming the empty label', (config, message) => {
    expect(() => new SeriesSelector(config)).toThrow(message);
  });

  test('when the metric is not a metric name, then it throws naming it', () => {
    expect(() => mariadb.series('mysql_up == 1')).toThrow(/metric must match .*, got "mysql_up == 1"/);
  });
});

describe('LabelMatcher', () => {
  test('when a value holds quotes or backslashes, then it is rendered as an escaped PromQL string', () => {
    expect(String(LabelMatcher.equal('path', 'C:\\memo "x"'))).toBe('path="C:\\\\memo \\"x\\""');
  });

  test('when values are matched as alternatives, then regex metacharacters match literally', () => {
    // The matcher's value is the regex memo\.events|audit; written as a PromQL string, \ doubles.
    const topics = LabelMatcher.anyOf('topic', ['memo.events', 'audit']);
    expect(topics.value).toBe('memo\\.events|audit');
    expect(String(topics)).toBe('topic=~"memo\\\\.events|audit"');
  });

  test('when no value is given to anyOf, then it throws: the regex "" would match only a missing label', () => {
    expect(() => LabelMatcher.anyOf('topic', [])).toThrow(/values of "topic" must not be empty/);
  });

  test('when the label name is not a Prometheus label name, then it throws naming it', () => {
    expect(() => LabelMatcher.equal('app.kubernetes.io/name', 'x')).toThrow(
      /label name must match .*, got "app.kubernetes.io\/name"/,
    );
  });
});
