// Options a system container cannot honour are refused before anything is allocated.
import fs from 'node:fs';
import { userNamespaceOf } from '@sysbox/common/proc';
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

/**
 * True when the namespace at `ns.path` belongs to the host's user namespace: made before the
 * runtime ran by a host process (Podman makes the network namespace first and configures it, unless
 * it is told of a user namespace). Such a namespace stays the host's to administer; a container's
 * root gets no capability over it, so runc's sysfs mount fails (EPERM) and an inner Docker could
 * not configure its network.
 */
function ownedByHostUserns(ns: Namespace): boolean {
  if (!ns.path) return false;
  // Loaded only here: most specs name no namespace path, and their creates stay free of the addon.
  const native = require('@sysbox/native') as typeof import('@sysbox/native');
  let owner: string;
  try {
    owner = native.namespaceOwner(ns.path);
  } catch {
    return false; // runc reports a missing or unusable path in its own words
  }
  return owner === userNamespaceOf('self');
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
  const net = find('network')!;
  if (ownedByHostUserns(net)) {
    // A container's root could neither mount sysfs for it nor configure its network.
    return `network namespace ${net.path} belongs to the host's user namespace: a system container can only join ` +
      'the network namespace of another system container (docker --net=container:<system container>), or let the ' +
      'runtime create one (Podman: give it a user namespace with --userns=auto or --uidmap/--gidmap, or use ' +
      '--network none; pods: docs/kubernetes.md)';
  }
  return undefined;
}
