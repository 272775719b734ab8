// The parts of the OCI runtime spec (config.json) that Sysbox reads or changes. Unknown fields are
// kept as they are: the spec is parsed, edited in place and written back whole.

export interface IdMapping { containerID: number; hostID: number; size: number }
export interface Namespace { type: string; path?: string }
export interface Mount { destination: string; type?: string; source?: string; options?: string[] }
export interface Capabilities {
  bounding?: string[]; effective?: string[]; inheritable?: string[]; permitted?: string[]; ambient?: string[];
}
export interface Process {
  terminal?: boolean;
  user: { uid: number; gid: number; additionalGids?: number[] };
  args?: string[];
  env?: string[];
  cwd: string;
  capabilities?: Capabilities;
  apparmorProfile?: string;
  oomScoreAdj?: number;
  [k: string]: unknown;
}
export interface SeccompArg { index: number; value: number; valueTwo?: number; op: string }
export interface SeccompRule {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: SeccompArg[];
  [k: string]: unknown;
}
export interface Seccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  listenerPath?: string;
  syscalls?: SeccompRule[];
  [k: string]: unknown;
}
export interface DeviceRule { allow: boolean; type?: string; major?: number; minor?: number; access?: string }
export interface Linux {
  namespaces?: Namespace[];
  uidMappings?: IdMapping[];
  gidMappings?: IdMapping[];
  sysctl?: Record<string, string>;
  resources?: { devices?: DeviceRule[]; [k: string]: unknown };
  seccomp?: Seccomp;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  rootfsPropagation?: string;
  [k: string]: unknown;
}
export interface Spec {
  ociVersion: string;
  process?: Process;
  root?: { path: string; readonly?: boolean };
  hostname?: string;
  mounts?: Mount[];
  linux?: Linux;
  annotations?: Record<string, string>;
  [k: string]: unknown;
}

/** A mount that binds a host path (runc treats any mount with a bind/rbind option as one). */
export function isBindMount(m: Mount): boolean {
  return m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind');
}
