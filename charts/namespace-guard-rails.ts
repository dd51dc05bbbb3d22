import { ApiObject, Chart, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { KubeLimitRange, KubeResourceQuota } from '../imports/k8s';
import { MEMOSTACK_VERSION, recommendedLabels } from './labels';
import { resolveNamespace } from './common/namespace';
import { requireDnsLabel, requireInteger, requireNamespace, requireResources } from './common/prop-checks';
import {
  ContainerDefaults,
  GIB,
  MIB,
  NamespaceFootprint,
  namespaceFootprint,
  PlainManifest,
} from './common/workload-footprint';
import { ResourcePreset } from './resources';

/** The guard rails' settings that do not place them (MemoStack's `guardRails` prop). */
export interface NamespaceGuardRailsOptions {
  /**
   * A ResourceQuota whose requests.cpu, requests.memory, limits.memory and pod count are the
   * chart's own peak plus `headroomPercent`, with its claims and storage exactly, and no
   * LoadBalancer or NodePort Service beyond the chart's.
   * @see https://kubernetes.io/docs/concepts/policy/resource-quotas/
   * @default true
   */
  readonly resourceQuota?: boolean;
  /**
   * A LimitRange: requests and a memory limit for any container that sets none (the quota
   * makes the API server refuse such pods otherwise), and a largest memory limit per container.
   * @see https://kubernetes.io/docs/concepts/policy/limit-range/
   * @default true
   */
  readonly limitRange?: boolean;
  /**
   * Room above the computed peak, in percent of it, on CPU, memory and pods: pods deleted in a
   * rollout still count until they have terminated (a drained API pod for its grace period), a
   * failed Job pod's replacement, a second rollout started before the first one finished.
   * Claims and storage get none: a rollout makes no claim, and scaling a StatefulSet up should
   * ask for a larger quota.
   * @default 25
   */
  readonly headroomPercent?: number;
  /**
   * Requests and memory limit the LimitRange gives a container that sets none (a debug pod,
   * an added sidecar); counted for such containers of the chart too.
   * @default ResourcePreset.MICRO
   */
  readonly containerDefaults?: ResourcePreset;
  /**
   * The largest memory limit one container may have (the LimitRange's max), in MiB. There is
   * no CPU max: it would give every container a CPU limit, which the presets leave out on
   * purpose; requests.cpu in the quota bounds the namespace instead.
   * @default - the largest memory limit of any container in the chart
   */
  readonly maxContainerMemoryMiB?: number;
}

export interface NamespaceGuardRailsProps extends NamespaceGuardRailsOptions {
  /**
   * The namespace guarded; the chart's objects in it (or naming none) are what the quota is sized for.
   * @default - the chart's namespace, else "memo"
   */
  readonly namespace?: string;
  /**
   * Prefix of the names: `<prefix>-quota` (ResourceQuota), `<prefix>-limits` (LimitRange).
   * @default "memo"
   */
  readonly namePrefix?: string;
}

/** Objects the footprint reads; the guard rails' own objects are never among them. */
const SIZED_KINDS = new Set([
  'Deployment',
  'StatefulSet',
  'ReplicaSet',
  'DaemonSet',
  'Job',
  'CronJob',
  'Pod',
  'HorizontalPodAutoscaler',
  'PersistentVolumeClaim',
  'Service',
]);

const CPU_STEP_MILLIS = 100;
const MEMORY_STEP_BYTES = 64 * MIB;

const roundUp = (value: number, step: number): number => Math.ceil(value / step - 1e-9) * step;

/**
 * A ResourceQuota and a LimitRange for one namespace, sized at synth from the chart's own
 * workloads: every Deployment at its HPA maximum plus its rolling-update surge, every
 * StatefulSet at its replicas, every Job and CronJob running at the same time, plus
 * `headroomPercent`. A runaway workload (a scale to 100 replicas, a container asking for the
 * node's memory) is refused by the API server instead of starving the nodes; the stack's own
 * rollouts always fit. Add it after the workloads or before: it reads the chart when it synthesizes.
 */
export class NamespaceGuardRails extends Construct {
  public readonly namespace: string;
  public readonly namePrefix: string;
  public readonly headroomPercent: number;
  public readonly containerDefaults: ResourcePreset;
  /** The ResourceQuota, unless `resourceQuota: false`. */
  public readonly resourceQuota?: ApiObject;
  /** The LimitRange, unless `limitRange: false`. */
  public readonly limitRange?: ApiObject;
  private readonly maxContainerMemoryMiBProp?: number;

  public constructor(scope: Construct, id: string, props: NamespaceGuardRailsProps = {}) {
    super(scope, id);
    const owner = 'NamespaceGuardRails';
    this.namespace = resolveNamespace(this, props.namespace);
    requireNamespace(owner, 'namespace', this.namespace);
    this.namePrefix = props.namePrefix ?? 'memo';
    // The longest name is `<prefix>-limits`: a DNS subdomain, kept to a label here.
    requireDnsLabel(owner, 'namePrefix', this.namePrefix, 63 - '-limits'.length);
    this.headroomPercent = props.headroomPercent ?? 25;
    requireInteger(owner, 'headroomPercent', this.headroomPercent, 0, 1000);
    this.containerDefaults = props.containerDefaults ?? ResourcePreset.MICRO;
    requireResources(owner, 'containerDefaults', this.containerDefaults);
    if (props.maxContainerMemoryMiB !== undefined) {
      requireInteger(owner, 'maxContainerMemoryMiB', props.maxContainerMemoryMiB, 1, 16 * 1024 * 1024);
      if (props.maxContainerMemoryMiB < this.containerDefaults.memoryLimitMiB) {
        throw new Error(
          `${owner}: maxContainerMemoryMiB must be at least containerDefaults' memory limit (${this.containerDefaults.memoryLimitMiB} MiB), got ${props.maxContainerMemoryMiB}`,
        );
      }
    }
    this.maxContainerMemoryMiBProp = props.maxContainerMemoryMiB;

    const labels = recommendedLabels({
      name: 'memostack',
      instance: `${this.namePrefix}-guard-rails`,
      component: 'guard-rails',
      version: MEMOSTACK_VERSION,
    });
    const withLimitRange = props.limitRange ?? true;
    if (props.resourceQuota ?? true) {
      this.resourceQuota = new ApiObject(this, 'quota', {
        ...KubeResourceQuota.GVK,
        metadata: { name: `${this.namePrefix}-quota`, namespace: this.namespace, labels },
        spec: Lazy.any({ produce: () => ({ hard: this.hard }) }),
      });
    }
    if (withLimitRange) {
      this.limitRange = new ApiObject(this, 'limits', {
        ...KubeLimitRange.GVK,
        metadata: { name: `${this.namePrefix}-limits`, namespace: this.namespace, labels },
        spec: Lazy.any({ produce: () => this.limitRangeSpec() }),
      });
    }
    this.node.addValidation({ validate: () => this.problems(withLimitRange) });
  }

  /** What a container that sets nothing gets, when the LimitRange is there. */
  private get defaults(): ContainerDefaults | undefined {
    if (this.limitRange === undefined) return undefined;
    return {
      cpuMillis: this.containerDefaults.cpuMillis,
      memoryBytes: this.containerDefaults.memoryMiB * MIB,
      memoryLimitBytes: this.containerDefaults.memoryLimitMiB * MIB,
    };
  }

  /**
   * The peak of the chart's workloads in the namespace, without headroom: what each workload
   * can hold at once and the sums. Computed from the chart as it is when read, so read it
   * once the chart is complete (tests, synth).
   */
  public get footprint(): NamespaceFootprint {
    const objects = Chart.of(this)
      .node.findAll()
      .filter((c): c is ApiObject => c instanceof ApiObject && SIZED_KINDS.has(c.kind))
      .map((o) => o.toJson() as PlainManifest);
    return namespaceFootprint(objects, this.namespace, this.defaults);
  }

  /**
   * The ResourceQuota's `spec.hard`: CPU rounded up to 100m and memory to 64 MiB after the
   * headroom, pods rounded up, storage to the GiB. Computed from the chart when read.
   */
  public get hard(): Record<string, string> {
    const f = this.footprint;
    const room = (value: number) => value * (1 + this.headroomPercent / 100);
    return {
      pods: String(Math.ceil(room(f.pods) - 1e-9)),
      'requests.cpu': `${roundUp(room(f.cpuMillis), CPU_STEP_MILLIS)}m`,
      'requests.memory': `${roundUp(room(f.memoryBytes), MEMORY_STEP_BYTES) / MIB}Mi`,
      'limits.memory': `${roundUp(room(f.memoryLimitBytes), MEMORY_STEP_BYTES) / MIB}Mi`,
      persistentvolumeclaims: String(f.persistentVolumeClaims),
      'requests.storage': `${roundUp(f.storageBytes, GIB) / GIB}Gi`,
      'services.loadbalancers': String(f.loadBalancers),
      'services.nodeports': String(f.nodePorts),
    };
  }

  /** The LimitRange's max memory per container, in MiB: the prop, else the chart's largest limit (rounded up to a MiB). */
  public get maxContainerMemoryMiB(): number {
    return (
      this.maxContainerMemoryMiBProp ??
      Math.max(
        this.containerDefaults.memoryLimitMiB,
        Math.ceil(this.footprint.largestContainerMemoryLimitBytes / MIB - 1e-9),
      )
    );
  }

  private limitRangeSpec(): unknown {
    const d = this.containerDefaults;
    return {
      limits: [
        {
          type: 'Container',
          defaultRequest: { cpu: `${d.cpuMillis}m`, memory: `${d.memoryMiB}Mi` },
          default: { memory: `${d.memoryLimitMiB}Mi` },
          max: { memory: `${this.maxContainerMemoryMiB}Mi` },
        },
      ],
    };
  }

  /** Checked at synth, when the chart is complete. */
  private problems(withLimitRange: boolean): string[] {
    const f = this.footprint;
    const owner = `NamespaceGuardRails ${this.namespace}`;
    const problems = f.unsized.map(
      (u) => `${owner}: ${u}; size the namespace by hand (resourceQuota: false and your own ResourceQuota)`,
    );
    if (this.resourceQuota !== undefined && !withLimitRange) {
      problems.push(
        ...f.missingResources.map(
          (m) =>
            `${owner}: ${m}, and the ResourceQuota makes the API server refuse its pods without a LimitRange to fill it in: set the container's resources or keep limitRange: true`,
        ),
      );
    }
    const largestMiB = f.largestContainerMemoryLimitBytes / MIB;
    if (this.limitRange !== undefined && largestMiB > this.maxContainerMemoryMiB) {
      problems.push(
        `${owner}: maxContainerMemoryMiB must be at least the largest memory limit of a container in the chart (${largestMiB} MiB), got ${this.maxContainerMemoryMiB}`,
      );
    }
    return problems;
  }
}
