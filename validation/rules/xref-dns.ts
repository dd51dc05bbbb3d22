import { parse } from 'yaml';
import type { RuleContext } from '../context';
import { embeddedPosition } from '../embedded';
import { classify, extractHosts, isHostKey, resolveProblem, type HostRef } from '../hosts';
import { arr, rec, str } from '../json';
import { containers, ofKind, podTemplate } from '../model';
import type { K8sObject } from '../types';

interface Candidate {
  readonly value: string;
  readonly allowBare: boolean;
  /** 1-based line inside a multi-line value. */
  readonly line: number;
  /** A port from a sibling setting (`DB_PORT` next to `DB_HOST`). */
  readonly port?: number;
}

const SVC_TOKEN = /[a-z0-9][-a-z0-9.]*\.svc(?:\.cluster\.local)?(?::\d+)?/g;

/** Host-bearing values inside a YAML/JSON document, with their line numbers. */
function fromStructured(text: string): Candidate[] | undefined {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch {
    return undefined;
  }
  if (doc === null || typeof doc !== 'object') return undefined;
  const lines = text.split('\n');
  const lineOfValue = (v: string): number => {
    const i = lines.findIndex((l) => l.includes(v));
    return i >= 0 ? i + 1 : 1;
  };
  const out: Candidate[] = [];
  const walk = (node: unknown, key: string): void => {
    if (Array.isArray(node)) node.forEach((n) => walk(n, key));
    else if (node !== null && typeof node === 'object') for (const [k, v] of Object.entries(node)) walk(v, k);
    else if (typeof node === 'string' && !node.includes('\n')) {
      if (isHostKey(key, node)) out.push({ value: node, allowBare: true, line: lineOfValue(node) });
      else if (node.includes('.svc')) out.push({ value: node, allowBare: false, line: lineOfValue(node) });
    }
  };
  walk(doc, '');
  return out;
}

/** `key=value` / `key: value` lines of properties and conf files, and `.svc` names anywhere. */
function fromLines(text: string): Candidate[] {
  const out: Candidate[] = [];
  text.split('\n').forEach((l, i) => {
    const m = /^\s*([A-Za-z0-9_.-]+)\s*[=:]\s*(.+)$/.exec(l);
    if (m && m[1] === 'controller.quorum.voters') return;
    if (m && isHostKey(m[1], m[2])) out.push({ value: m[2], allowBare: true, line: i + 1 });
    else for (const t of l.match(SVC_TOKEN) ?? []) out.push({ value: t, allowBare: false, line: i + 1 });
  });
  return out;
}

export function configCandidates(key: string, value: string): Candidate[] {
  if (!value.includes('\n')) {
    if (isHostKey(key, value)) return [{ value, allowBare: true, line: 1 }];
    return (value.match(SVC_TOKEN) ?? []).map((t) => ({ value: t, allowBare: false, line: 1 }));
  }
  return fromStructured(value) ?? fromLines(value);
}

/** `DB_PORT` beside `DB_HOST`: the port the host will be dialled on. */
function siblingPort(key: string, lookup: (key: string) => string | undefined): number | undefined {
  const m = /^(.*)_HOST(NAME)?$/i.exec(key);
  const text = m ? lookup(`${m[1]}_PORT`) : undefined;
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
}

function namespaces(ctx: RuleContext): Set<string> {
  return new Set(
    [...ctx.objects.map((o) => o.namespace), ...ofKind(ctx.objects, 'Namespace').map((n) => n.name)].filter(
      (n) => n !== '',
    ),
  );
}

function check(
  ctx: RuleContext,
  obj: K8sObject,
  c: Candidate,
  report: (ref: HostRef, message: string) => void,
): void {
  for (const ref of extractHosts(c.value)) {
    const target = classify(ref.host, obj.namespace, namespaces(ctx), c.allowBare);
    if (!target) continue;
    const problem = resolveProblem(
      ctx.objects,
      target,
      ref.port === undefined && c.port !== undefined ? { ...ref, port: c.port } : ref,
    );
    if (problem) report(ref, problem);
  }
}

/**
 * XREF-DNS: host names the pods will dial (env values, ConfigMap data) name a Service of the folder
 * that exposes the port. Only keys that say "host" (HOST, BROKERS, URL, SERVERS, VOTERS, ...) may
 * hold bare names; anything else must spell `.svc` to be considered in-cluster.
 */
export function xrefDns(ctx: RuleContext): void {
  for (const obj of ctx.objects) {
    const pt = podTemplate(obj);
    if (pt) {
      for (const ct of containers(pt)) {
        const env = arr(ct.container.env).map((e) => rec(e) ?? {});
        const literal = new Map(env.map((e) => [str(e.name) ?? '', str(e.value)]));
        env.forEach((e, i) => {
          const name = str(e.name) ?? '';
          const value = str(e.value);
          // The quorum has its own, stricter rule; reporting it twice would only add noise.
          if (!value || (obj.kind === 'StatefulSet' && name === 'KAFKA_CONTROLLER_QUORUM_VOTERS')) return;
          const hostKey = isHostKey(name, value);
          if (!hostKey && !value.includes('.svc')) return;
          const port = siblingPort(name, (k) => literal.get(k));
          check(ctx, obj, { value, allowBare: hostKey, line: 1, port }, (_ref, message) =>
            ctx.report({ obj, rule: 'XREF-DNS', path: [...ct.path, 'env', i, 'value'], message }),
          );
        });
      }
    }
    if (obj.kind === 'ConfigMap') {
      const data = rec(obj.raw.data) ?? {};
      for (const [key, value] of Object.entries(data)) {
        if (typeof value !== 'string') continue;
        const port = siblingPort(key, (k) => str(data[k]));
        for (const c of configCandidates(key, value)) {
          const pos = embeddedPosition(obj, 'data', key, c.line);
          check(
            ctx,
            obj,
            { ...c, port: c.line === 1 && !value.includes('\n') ? port : undefined },
            (_ref, message) =>
              ctx.report({
                obj,
                rule: 'XREF-DNS',
                path: ['data', key],
                line: pos.line,
                col: pos.col,
                message,
              }),
          );
        }
      }
    }
  }
}
