// Options a system container cannot honour are refused before anything is allocated.
import fs from 'node:fs';
import type { Namespace, Spec } from './oci.js';

export class RefusedError extends Error {}

function isHostNamespace(ns: Namespace, type: string): boolean {
  if (!ns.path) return false;
  try {
    // The runtime runs in the host's namespaces (as dockerd and containerd do).
    return fs.statSync(ns.path).ino === fs.statSync(`/proc/self/ns/${type}`).ino;
  } catch {
    return false;
  }
}

function allDevicesAllowed(spec: Spec): boolean {
  return (spec.linux?.resources?.devices ?? []).some(
    (d) => d.allow && (d.type === undefined || d.type === 'a') && d.major === undefined && d.minor === undefined && (d.access ?? 'rwm').includes('rwm'),
  );
}

/** Error text for the first refused option, or undefined when the spec is acceptable. */
export function refusal(spec: Spec): string | undefined {
  const namespaces = spec.linux?.namespaces ?? [];
  const find = (t: string): Namespace | undefined => namespaces.find((n) => n.type === t);
  if (allDevicesAllowed(spec)) {
    return 'privileged containers are not supported by sysbox-runc: a system container runs unprivileged and isolated (drop --privileged)';
  }
  const checks: [string, string][] = [['pid', '--pid=host'], ['network', '--net=host'], ['mount', 'a shared host mount namespace']];
  for (const [type, option] of checks) {
    const ns = find(type);
    if (!ns || isHostNamespace(ns, type === 'network' ? 'net' : type)) {
      return `${option} is not supported by sysbox-runc: a system container needs its own ${type} namespace`;
    }
  }
  const user = find('user');
  if (user && isHostNamespace(user, 'user')) {
    return '--userns=host is not supported by sysbox-runc: a system container needs its own user namespace';
  }
  return undefined;
}
