/** The YAML form of the configuration files the stack writes (prometheus.yml, rules, alertmanager.yml, provisioning). */
import { stringify } from 'yaml';

export function toYaml(value: unknown): string {
  // lineWidth 0: long PromQL expressions stay on one line instead of being folded.
  return stringify(value, { lineWidth: 0 });
}
