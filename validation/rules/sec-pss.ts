import type { RuleContext } from '../context';
import { arr, get, quote, rec, str } from '../json';
import { containers, podTemplate } from '../model';
import type { FieldPath } from '../types';

const RULE = 'SEC-PSS-RESTRICTED';
/** Restricted profile: the only volume sources allowed. */
const ALLOWED_VOLUMES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);
/** Baseline safe sysctls as of 1.27 (the oldest target version, so the strictest list). */
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
]);
const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t']);

/** SEC-PSS-RESTRICTED: the Pod Security Standards "restricted" profile (baseline included), field by field. */
export function secPssRestricted(ctx: RuleContext): void {
  for (const obj of ctx.objects) {
    const pt = podTemplate(obj);
    if (!pt) continue;
    const report = (path: FieldPath, message: string, atKey = false): void =>
      ctx.report({ obj, rule: RULE, path, message, atKey });
    const sp = pt.specPath;
    const podSc = rec(pt.spec.securityContext) ?? {};
    for (const f of ['hostNetwork', 'hostPID', 'hostIPC'])
      if (pt.spec[f] === true) report([...sp, f], 'Forbidden: host namespaces are not allowed');
    arr(pt.spec.volumes).forEach((v, i) => {
      for (const k of Object.keys(rec(v) ?? {}))
        if (k !== 'name' && !ALLOWED_VOLUMES.has(k))
          report(
            [...sp, 'volumes', i, k],
            `Forbidden: restricted volume type ${quote(k)} is not allowed${k === 'hostPath' ? ' (hostPath volumes are forbidden)' : ''}`,
            true,
          );
    });
    arr(podSc.sysctls).forEach((s, i) => {
      const name = str(rec(s)?.name) ?? '';
      if (!SAFE_SYSCTLS.has(name))
        report([...sp, 'securityContext', 'sysctls', i, 'name'], `Forbidden: unsafe sysctl ${quote(name)}`);
    });
    const podSeccomp = str(get(podSc, 'seccompProfile', 'type'));
    if (podSeccomp !== undefined && podSeccomp !== 'RuntimeDefault' && podSeccomp !== 'Localhost')
      report(
        [...sp, 'securityContext', 'seccompProfile', 'type'],
        `Forbidden: seccompProfile.type ${quote(podSeccomp)} is not allowed (RuntimeDefault or Localhost)`,
      );
    if (podSc.runAsUser === 0)
      report([...sp, 'securityContext', 'runAsUser'], 'Forbidden: runAsUser=0 is not allowed');
    if (podSc.runAsNonRoot === false)
      report([...sp, 'securityContext', 'runAsNonRoot'], 'Forbidden: runAsNonRoot=false is not allowed');
    const checkSelinux = (sel: unknown, at: FieldPath): void => {
      const s = rec(sel);
      if (!s) return;
      if (!SELINUX_TYPES.has(str(s.type) ?? ''))
        report([...at, 'type'], `Forbidden: seLinuxOptions.type ${quote(s.type)} is not allowed`);
      for (const f of ['user', 'role'])
        if (str(s[f])) report([...at, f], `Forbidden: seLinuxOptions.${f} may not be set`);
    };
    checkSelinux(podSc.seLinuxOptions, [...sp, 'securityContext', 'seLinuxOptions']);
    const appArmorType = str(get(podSc, 'appArmorProfile', 'type'));
    if (appArmorType === 'Unconfined')
      report(
        [...sp, 'securityContext', 'appArmorProfile', 'type'],
        'Forbidden: appArmorProfile.type "Unconfined" is not allowed',
      );
    for (const [k, v] of Object.entries(
      rec(get(obj.raw, ...pt.specPath.slice(0, -1), 'metadata', 'annotations')) ?? {},
    ))
      if (k.startsWith('container.apparmor.security.beta.kubernetes.io/') && v === 'unconfined')
        report(
          [...sp.slice(0, -1), 'metadata', 'annotations', k],
          'Forbidden: AppArmor profile "unconfined" is not allowed',
          true,
        );

    for (const c of containers(pt)) {
      const sc = rec(c.container.securityContext) ?? {};
      const at = [...c.path, 'securityContext'];
      const named = `container ${quote(c.name)}`;
      if (sc.privileged === true)
        report([...at, 'privileged'], `Forbidden: ${named} must not set securityContext.privileged=true`);
      if (sc.allowPrivilegeEscalation !== false)
        report(
          [...at, 'allowPrivilegeEscalation'],
          `Required value: ${named} must set securityContext.allowPrivilegeEscalation=false`,
        );
      if (sc.runAsNonRoot === false || (sc.runAsNonRoot !== true && podSc.runAsNonRoot !== true))
        report(
          [...at, 'runAsNonRoot'],
          `Required value: pod or ${named} must set securityContext.runAsNonRoot=true`,
        );
      if (sc.runAsUser === 0) report([...at, 'runAsUser'], `Forbidden: ${named} must not set runAsUser=0`);
      const seccomp = str(get(sc, 'seccompProfile', 'type'));
      if (seccomp !== undefined && seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost')
        report(
          [...at, 'seccompProfile', 'type'],
          `Forbidden: ${named} seccompProfile.type ${quote(seccomp)} is not allowed`,
        );
      else if (seccomp === undefined && podSeccomp === undefined)
        report(
          [...at, 'seccompProfile', 'type'],
          `Required value: pod or ${named} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`,
        );
      const drop = arr(get(sc, 'capabilities', 'drop')).map(String);
      if (!drop.includes('ALL'))
        report(
          [...at, 'capabilities', 'drop'],
          `Required value: ${named} must set securityContext.capabilities.drop=["ALL"]`,
        );
      arr(get(sc, 'capabilities', 'add')).forEach((cap, i) => {
        if (cap !== 'NET_BIND_SERVICE')
          report(
            [...at, 'capabilities', 'add', i],
            `Forbidden: ${named} may only add capability "NET_BIND_SERVICE", not ${quote(cap)}`,
          );
      });
      if (sc.procMount !== undefined && sc.procMount !== 'Default')
        report([...at, 'procMount'], `Forbidden: ${named} must not set procMount=${quote(sc.procMount)}`);
      checkSelinux(sc.seLinuxOptions, [...at, 'seLinuxOptions']);
      if (get(sc, 'appArmorProfile', 'type') === 'Unconfined')
        report(
          [...at, 'appArmorProfile', 'type'],
          `Forbidden: ${named} appArmorProfile "Unconfined" is not allowed`,
        );
      if (sc.windowsOptions !== undefined && get(sc, 'windowsOptions', 'hostProcess') === true)
        report(
          [...at, 'windowsOptions', 'hostProcess'],
          `Forbidden: ${named} must not be a hostProcess container`,
        );
      arr(c.container.ports).forEach((p, i) => {
        const hp = rec(p)?.hostPort;
        if (typeof hp === 'number' && hp !== 0)
          report([...c.path, 'ports', i, 'hostPort'], `Forbidden: ${named} must not use hostPort ${hp}`);
      });
    }
  }
}
