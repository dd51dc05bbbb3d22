/** The size of `ResourcePreset.custom()`. */
export interface CustomResourcePresetProps {
  /** CPU requested, in millicores. */
  readonly cpuMillis: number;
  /** Memory requested, in MiB. */
  readonly memoryMiB: number;
  /** Memory limit, in MiB; at least `memoryMiB`. */
  readonly memoryLimitMiB: number;
}

/**
 * Resource presets. cdk8s-plus defaults (1-1.5 CPU, 0.5-2 GiB per container) do not fit a
 * laptop cluster, so every construct picks a named size and each profile says which size.
 * CPU limits are deliberately absent: throttling a latency-sensitive server hurts more than
 * it protects, while a memory limit is what keeps one pod from starving a node.
 */
export class ResourcePreset {
  /** 25m CPU, 32 MiB requested; 64 MiB limit. Exporters and other sidecars. */
  public static readonly NANO = new ResourcePreset('nano', 25, 32, 64);
  /** 50m CPU, 64 MiB requested; 128 MiB limit. */
  public static readonly MICRO = new ResourcePreset('micro', 50, 64, 128);
  /** 100m CPU, 128 MiB requested; 256 MiB limit. */
  public static readonly SMALL = new ResourcePreset('small', 100, 128, 256);
  /** 250m CPU, 512 MiB requested; 1 GiB limit. */
  public static readonly MEDIUM = new ResourcePreset('medium', 250, 512, 1024);
  /** 1 CPU, 2 GiB requested; 4 GiB limit. */
  public static readonly LARGE = new ResourcePreset('large', 1000, 2048, 4096);

  /** A custom size, for workloads the presets do not fit. */
  public static custom(props: CustomResourcePresetProps): ResourcePreset {
    const { cpuMillis, memoryMiB, memoryLimitMiB } = props;
    for (const [prop, value] of Object.entries(props)) {
      if (!Number.isInteger(value) || value <= 0) {
        throw new Error(`ResourcePreset.custom: ${prop} must be a positive integer, got ${value}`);
      }
    }
    if (memoryLimitMiB < memoryMiB) {
      throw new Error(
        `ResourcePreset.custom: memoryLimitMiB (${memoryLimitMiB}) must be >= memoryMiB (${memoryMiB})`,
      );
    }
    return new ResourcePreset('custom', cpuMillis, memoryMiB, memoryLimitMiB);
  }

  private constructor(
    /** The preset's name (`custom` for `ResourcePreset.custom()`). */
    public readonly name: string,
    /** CPU requested, in millicores. */
    public readonly cpuMillis: number,
    /** Memory requested, in MiB. */
    public readonly memoryMiB: number,
    /** Memory limit, in MiB. */
    public readonly memoryLimitMiB: number,
  ) {}

  /**
   * The container `resources` block, in the plain shape of the Kubernetes API:
   * `{ requests: { cpu, memory }, limits: { memory } }`.
   */
  public toResourceRequirements(): Record<string, Record<string, string>> {
    return {
      requests: { cpu: `${this.cpuMillis}m`, memory: `${this.memoryMiB}Mi` },
      limits: { memory: `${this.memoryLimitMiB}Mi` },
    };
  }
}
