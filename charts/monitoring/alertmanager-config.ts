/** alertmanager.yml of the standalone Alertmanager: severity routes, inhibition and the optional webhook. */
import { toYaml } from './yaml';

/** `webhookUrl` receives every notification; without it alerts show in the Alertmanager UI only. */
export function renderAlertmanagerConfig(webhookUrl: string | undefined): string {
  const webhook =
    webhookUrl === undefined ? {} : { webhook_configs: [{ url: webhookUrl, send_resolved: true }] };
  return toYaml({
    route: {
      receiver: 'default',
      group_by: ['alertname', 'namespace'],
      group_wait: '30s',
      group_interval: '5m',
      repeat_interval: '4h',
      routes: [
        { receiver: 'critical', matchers: ['severity="critical"'], repeat_interval: '1h' },
        { receiver: 'default', matchers: ['severity="warning"'] },
      ],
    },
    // A component that is down also breaks its latency and error-rate rules; page once.
    inhibit_rules: [
      {
        source_matchers: ['severity="critical"'],
        target_matchers: ['severity="warning"'],
        equal: ['namespace'],
      },
    ],
    receivers: [
      { name: 'default', ...webhook },
      { name: 'critical', ...webhook },
    ],
  });
}
