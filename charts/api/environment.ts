/**
 * The API's environment, by the service's own contract (app/src/config/contract.ts): the
 * ConfigMap text of every setting, and which container gets which variable. Each container gets
 * what its entry reads: migrations only talk to the database, as the schema owner, so the API's
 * account, Redis and Kafka credentials stay out of that container.
 */
import {
  Entry,
  SecretName,
  SettingName,
  Settings,
  sourceOf,
  VARIABLES,
  write,
} from '../../app/src/config/contract';
import { EnvVar } from '../../imports/k8s';
import { SecretKeyReference } from '../endpoints';

export class ApiEnvironment {
  /** The ConfigMap's data: every setting as the service will read it, in contract order. */
  public readonly configData: Record<string, string>;

  public constructor(
    private readonly settings: Settings,
    private readonly secrets: Readonly<Record<SecretName, SecretKeyReference>>,
  ) {
    this.configData = Object.fromEntries(
      this.settingNames().map((name) => [name, settingText(name, settings[name])]),
    );
  }

  /** The settings `entry` reads, with their ConfigMap text. */
  public values(entry: Entry): Record<string, string> {
    return Object.fromEntries(this.settingsOf(entry).map((name) => [name, this.configData[name]]));
  }

  /** The Secret keys `entry` reads. */
  public secretRefs(entry: Entry): Record<string, SecretKeyReference> {
    return Object.fromEntries(this.secretsOf(entry).map((name) => [name, this.secrets[name]]));
  }

  /** The container `env` of `entry`: settings from the ConfigMap, credentials from their Secrets. */
  public containerEnv(entry: Entry, configMapName: string): EnvVar[] {
    return [
      ...this.settingsOf(entry).map((name) => ({
        name,
        valueFrom: { configMapKeyRef: { name: configMapName, key: name } },
      })),
      ...this.secretsOf(entry).map((name) => ({
        name,
        valueFrom: { secretKeyRef: { name: this.secrets[name].secretName, key: this.secrets[name].key } },
      })),
    ];
  }

  private settingNames(): SettingName[] {
    return Object.keys(this.settings) as SettingName[];
  }

  private settingsOf(entry: Entry): SettingName[] {
    return this.settingNames().filter((name) => VARIABLES[name].readBy.includes(entry));
  }

  private secretsOf(entry: Entry): SecretName[] {
    return (Object.keys(this.secrets) as SecretName[]).filter((name) =>
      VARIABLES[name].readBy.includes(entry),
    );
  }
}

/**
 * The ConfigMap text of a setting; a value the service would refuse, or read as another value,
 * stops synthesis here, naming the prop, the variable and what the service accepts.
 */
function settingText(name: SettingName, value: unknown): string {
  const written = write(name, value);
  if (written.ok) return written.text;
  const readAs = written.readAs === undefined ? '' : `, which the service reads as ${written.readAs}`;
  throw new Error(
    `MemoApi: ${sourceOf(name)} (${name}) must be ${written.expected}, got ${written.got}${readAs}`,
  );
}
