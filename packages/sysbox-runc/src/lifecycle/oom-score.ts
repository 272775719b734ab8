// The container's OOM score and its floor. The kernel keeps two numbers per process:
// oom_score_adj and oom_score_adj_min. A writer holding CAP_SYS_RESOURCE (in the host's user
// namespace) may write any value and pins the floor to it; any other writer may only write values
// >= the floor. Both are inherited on fork. Processes in a system container never hold that
// capability over the host, so whatever floor the container starts with is the lowest its inner
// dockerd (-500 on itself), kubelet or systemd's OOMScoreAdjust= can ever reach.
//
// runc writes process.oomScoreAdj with host privilege, which pins the floor to the value itself
// (Docker's default 0: nothing inside could go lower). So the value is taken out of the spec runc
// sees and applied here, to this process, before runc is started: first -999 with privilege (the
// floor), then the value without it (the floor stays). runc, the container's init and every process
// inside inherit both. `exec` does the same with the value create recorded in the run dir.
//
// On a host whose root lacks CAP_SYS_RESOURCE nobody can lower a floor: the floor stays what this
// process inherited (0 for a Docker shim), values at or above it still apply, lower ones are
// refused with an error that says why (runc alone fails there too, with "can't get final child's
// PID from pipe: EOF").
import fs from 'node:fs';
import path from 'node:path';
import type { Spec } from '../spec/oci.js';
import { clampOomScore, OOM_SCORE_MIN } from '../spec/transforms/oom-score-adj.js';

/** File in the container's run dir holding the score create applied, for exec. */
export const OOM_SCORE_FILE = 'oom-score-adj';

const CAP_SYS_RESOURCE = 24;
const NOBODY = 65534;

/** What applying a score needs from the host: this process's own score, and a way to shed privilege. */
export interface OomScoreHost {
  read(): number;
  /**
   * Writes /proc/self/oom_score_adj; throws the errno error (EACCES below the floor without
   * privilege). With keepFloor the write is made without CAP_SYS_RESOURCE, so the floor stays.
   */
  write(value: number, keepFloor?: boolean): void;
  /** Why a floor cannot be lowered here, for the error message. */
  missingPrivilege(): string;
}

export class OomScoreError extends Error {}

/**
 * Takes oomScoreAdj out of the spec (runc must not write it) and returns the score the container
 * gets: the spec's (already clamped by the transform), or, when the spec has none, this process's
 * own, which is what runc would have left the container with.
 */
export function takeOomScore(spec: Spec, host: Pick<OomScoreHost, 'read'> = procOomScore()): number {
  const p = spec.process;
  const wanted = p?.oomScoreAdj;
  if (p) delete p.oomScoreAdj;
  return clampOomScore(wanted ?? host.read());
}

/** Gives this process (and so everything it starts) the score `value` over a floor as low as the host allows. */
export function applyOomScore(value: number, host: OomScoreHost = procOomScore()): void {
  const own = host.read();
  let floorLowered = true;
  try {
    host.write(OOM_SCORE_MIN);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EACCES') throw err;
    floorLowered = false;
  }
  if (floorLowered) {
    if (value !== OOM_SCORE_MIN) host.write(value, true);
    return;
  }
  try {
    host.write(value);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EACCES') throw err;
    const floor = findFloor(host, own);
    throw new OomScoreError(`cannot set oom_score_adj to ${value}: lowering an OOM score below its floor (${floor} here) needs ` +
      `CAP_SYS_RESOURCE in the host's user namespace, and ${host.missingPrivilege()}`);
  }
}

/**
 * The floor, found by unprivileged writes (each succeeds exactly when it is >= the floor, and none
 * moves it): the kernel shows oom_score_adj_min nowhere. `own` is a value known to be allowed; it
 * is written back at the end.
 */
function findFloor(host: OomScoreHost, own: number): number {
  let lo = -1000;
  let hi = own;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    try {
      host.write(mid);
      hi = mid;
    } catch {
      lo = mid + 1;
    }
  }
  try { host.write(own); } catch { /* the error being reported matters more */ }
  return hi;
}

export function recordOomScore(runDir: string, value: number): void {
  fs.writeFileSync(path.join(runDir, OOM_SCORE_FILE), `${value}\n`, { mode: 0o644 });
}

/** The score create recorded for the container, if it did. */
export function recordedOomScore(runDir: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(runDir, OOM_SCORE_FILE), 'utf8');
  } catch {
    return undefined;
  }
  const v = Number(text.trim());
  return Number.isInteger(v) ? clampOomScore(v) : undefined;
}

function hasCapability(field: 'CapBnd' | 'CapEff', cap: number): boolean {
  const m = new RegExp(`^${field}:\\s*([0-9a-f]+)$`, 'm').exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m !== null && (BigInt(`0x${m[1]}`) >> BigInt(cap)) % 2n === 1n;
}

/**
 * A process's /proc/PID/oom_score_adj: this process's by default, or another's (a pre-started
 * create's launcher: runc is its child, not ours).
 */
export function procOomScore(pid: number | 'self' = 'self'): OomScoreHost {
  const file = `/proc/${pid}/oom_score_adj`;
  return {
    read: () => Number(fs.readFileSync(file, 'utf8').trim()),
    write: (value, keepFloor = false) => {
      // Opened as root: once euid changes the process is no longer dumpable and its /proc files
      // are root's alone. The kernel checks the writer's capabilities at write time, not at open.
      const fd = fs.openSync(file, 'w');
      try {
        if (!keepFloor) {
          fs.writeSync(fd, String(value));
          return;
        }
        // seteuid away from 0 clears the effective capability set; back to 0 restores it.
        process.seteuid!(NOBODY);
        try {
          fs.writeSync(fd, String(value));
        } finally {
          process.seteuid!(0);
        }
      } finally {
        fs.closeSync(fd);
      }
    },
    missingPrivilege: () => {
      if (!hasCapability('CapBnd', CAP_SYS_RESOURCE)) return "this host's root does not have it (it is not in the capability bounding set)";
      if (!hasCapability('CapEff', CAP_SYS_RESOURCE)) return 'sysbox-runc runs without it';
      return 'the write was refused all the same';
    },
  };
}
