/**
 * Recommended labels (https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/).
 * Selectors use only name/instance/component: `version` changes on upgrade and a Deployment's
 * selector is immutable, so putting it in a selector would break every rollout.
 */
import { version } from '../package.json';

export const PART_OF = 'memostack';
/** The library's own version, for objects that belong to the stack rather than to one component. */
export const MEMOSTACK_VERSION: string = version;
export const MANAGED_BY = 'cdk8s';

export interface ComponentIdentity {
  /** The application name, e.g. `mariadb`. */
  readonly name: string;
  /** The instance name, unique within the namespace, e.g. `memo-mariadb`. */
  readonly instance: string;
  /** The role within the architecture, e.g. `database`. */
  readonly component: string;
  /** The version of the software, usually the image tag. */
  readonly version: string;
}

export function selectorLabels(id: ComponentIdentity): Record<string, string> {
  return {
    'app.kubernetes.io/name': id.name,
    'app.kubernetes.io/instance': id.instance,
    'app.kubernetes.io/component': id.component,
  };
}

export function recommendedLabels(id: ComponentIdentity): Record<string, string> {
  return {
    ...selectorLabels(id),
    'app.kubernetes.io/part-of': PART_OF,
    'app.kubernetes.io/managed-by': MANAGED_BY,
    // Label values may not contain '+' or ':' (image tags can), and are at most 63 chars.
    'app.kubernetes.io/version': id.version.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 63),
  };
}
