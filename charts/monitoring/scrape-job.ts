/** A monitored component's scrape job and the selector of its series, the same in both modes. */
import { IMonitoringContribution } from '../endpoints';
import { SeriesSelector } from '../series-selector';

/**
 * The scrape job of a component: its Service name. A ServiceMonitor names its job after the
 * Service it scrapes through (kept to `serviceName` by its relabeling), so both modes give the
 * series the same `job` label.
 */
export function scrapeJobName(c: IMonitoringContribution): string {
  return c.serviceName;
}

/** The series of a component as this stack scrapes them: both modes copy the pods' namespace into `namespace`. */
export function seriesSelectorOf(c: IMonitoringContribution): SeriesSelector {
  return new SeriesSelector({ job: scrapeJobName(c), namespace: c.namespace });
}
