// The containers sysbox-fs serves, kept on disk (records under <state-dir>/containers) so worker
// threads and a restarted daemon share them. PreRegister records the id; Register ties the
// container to its init (pid namespace, start time) and its root's host ids, mounts the virtual
// files into it and follows the init: when it exits, the container is forgotten even if nobody
// calls Unregister.
import fs from 'node:fs';
import * as native from '@sysbox/native';
import { parseMountInfo } from '@sysbox/common/mountinfo';
import { initialMounts } from '../seccomp/mount-policy.js';
import { GrpcStatus } from '@sysbox/common';
import type { Logger } from '@sysbox/common/daemon/logger';
import { readWholeFile, writeWholeFile } from '@sysbox/common/daemon/whole-file';
import { LOAD_SLOTS, LoadTable } from '../container/load-table.js';
import { pickSlot, restingAsWallClock, restingFromWallClock } from './slots.js';
import { sampleOnce } from './load-sampler.js';
import { Generation, pidNamespace, readRecords, removeRecord, writeRecord, type ContainerRecord } from '../container/record.js';
import { containerUuid } from '../nodes/sys/product-uuid.js';
import { bindVirtualFiles, cloneSources, lookUpAhead, putBackTargets, sourcesOf } from './container-mounts.js';
import { SlotClones } from './slot-clones.js';
import { readOnlyTargets } from './read-only-binds.js';
import { inSlot, virtualBinds, type VirtualBind } from '../mount-layout.js';
import { processStartTime } from '@sysbox/common/proc';
import { pauseAt } from '@sysbox/common/test-pause';

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,1023}$/;

export class RpcError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

export interface RegistryOptions {
  stateDir: string;
  mountpoint: string;
  /** Virtual files, relative to the mount (e.g. "proc/uptime"); bound at the same path inside. */
  virtualPaths: readonly string[];
  generation: Generation;
  load: LoadTable;
  log: Logger;
  /** After a container is forgotten (the daemon then gives freed memory back once quiet). */
  onForgotten?: () => void;
}

/** Where the slots still resting are kept across restarts (slots.ts). */
const restingSlotsFile = (stateDir: string): string => `${stateDir}/resting-slots.json`;

function readRestingSlots(stateDir: string): Record<string, number> {
  try {
    const rec = JSON.parse(readWholeFile(restingSlotsFile(stateDir), isJson) ?? '{}') as unknown;
    return rec !== null && typeof rec === 'object' ? (rec as Record<string, number>) : {};
  } catch {
    return {};
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function checkId(id: unknown): string {
  if (typeof id !== 'string' || !ID_RE.test(id)) throw new RpcError(GrpcStatus.INVALID_ARGUMENT, `invalid container id ${JSON.stringify(id)}`);
  return id;
}

/** A container known by its id only, until Register ties it to its init. */
function preRecord(id: string): ContainerRecord {
  return { id, uid: 0, gid: 0, size: 0, initPid: 0, initStart: 0, pidns: '', slot: -1, uuid: containerUuid(id) };
}

export class Registry {
  private readonly recs = new Map<string, ContainerRecord>();

  /** When each slot was last freed (slots.ts: a freed slot rests before it is handed on). */
  private readonly freedAt = new Map<number, number>();

  /** What Register binds, in order, with sources relative to a slot. */
  private readonly binds: VirtualBind[];

  private readonly clones: SlotClones;

  constructor(private readonly o: RegistryOptions) {
    this.binds = [...virtualBinds(o.virtualPaths, 'proc', (p) => `/${p}`), ...virtualBinds(o.virtualPaths, 'sys', (p) => `/${p}`)];
    this.clones = new SlotClones(
      (slot) => cloneSources(o.mountpoint, sourcesOf(inSlot(this.binds, slot))),
      () => this.nextSlot(),
      (err) => o.log.debug(`virtual files not cloned ahead: ${err.message}`),
    );
  }

  /** Stops cloning ahead and closes the clones made (they hold the FUSE mount). */
  close(): void {
    this.clones.close();
  }

  get size(): number {
    return this.recs.size;
  }

  running(): ContainerRecord[] {
    return [...this.recs.values()].filter((r) => r.initPid > 0);
  }

  /**
   * After a restart: keep the containers whose init still runs, forget the others. Pre-registered
   * ones (on disk only from an earlier version: preRegister keeps them in memory) are forgotten
   * too: a predecessor that died while (or after) taking one may never have answered, so the
   * runtime cannot know to unregister it; a create still in flight registers without it (see
   * register).
   */
  restore(): void {
    for (const [slot, at] of restingFromWallClock(readRestingSlots(this.o.stateDir), performance.now(), Date.now())) this.freedAt.set(slot, at);
    // Written now, so that the file is there for good (its presence does not come and go).
    this.saveRestingSlots();
    for (const r of readRecords(this.o.stateDir)) {
      if (r.initPid === 0) {
        removeRecord(this.o.stateDir, r.id);
        this.o.log.info(`forgot pre-registered ${r.id}: its create was not finished when sysbox-fs stopped`);
        continue;
      }
      if (processStartTime(r.initPid) !== r.initStart) {
        removeRecord(this.o.stateDir, r.id);
        this.o.log.info(`forgot ${r.id}: its init ${r.initPid} exited while sysbox-fs was down`);
        continue;
      }
      this.recs.set(r.id, r);
      this.follow(r);
    }
    this.o.generation.bump();
    this.clones.prepareSoon();
  }

  preRegister(req: { id?: unknown }): void {
    const id = checkId(req.id);
    const old = this.recs.get(id);
    if (old && old.initPid > 0) throw new RpcError(GrpcStatus.ALREADY_EXISTS, `container ${id} is already registered`);
    // In memory only: no reader wants a record without an init, a restart forgets it anyway, and
    // Register then writes the file fresh (replacing one by rename made ext4 write its data out
    // first, on Register's path; sysbox-mgr's state-store.ts).
    this.recs.set(id, preRecord(id));
    this.o.log.debug(`${id}: pre-registered`);
    pauseAt('fs-preregister');
    // While sysbox-mgr registers and runc creates (~100 ms), not inside Register: the names its
    // put-back originals resolve through, in the slot it will most likely get (first 10 creates
    // after a start: its bind p50 6.3 ms without, 1.9 with; bench/README.md).
    const slot = this.nextSlot();
    if (slot !== undefined) void lookUpAhead(putBackTargets(this.o.mountpoint, slot, this.binds));
  }

  register(req: { id?: unknown; initPid?: unknown; uid?: unknown; gid?: unknown; size?: unknown; ignoreSysfsChown?: unknown; allowTrustedXattr?: unknown; readOnly?: unknown }): string[] {
    const id = checkId(req.id);
    const t0 = performance.now();
    const pid = Number(req.initPid);
    const [uid, gid, size] = [req.uid, req.gid, req.size].map(Number);
    if (!(uid > 0) || !(gid > 0) || !(size > 0)) throw new RpcError(GrpcStatus.INVALID_ARGUMENT, `${id}: uid, gid and size must be positive (got ${uid}, ${gid}, ${size})`);
    // Not pre-registered here: pre-registered with a predecessor (see restore), taken now.
    const pre = this.recs.get(id) ?? preRecord(id);
    if (pre.initPid > 0) throw new RpcError(GrpcStatus.ALREADY_EXISTS, `container ${id} is already registered`);
    const pidns = Number.isInteger(pid) && pid > 0 ? pidNamespace(pid) : undefined;
    const initStart = pidns ? processStartTime(pid) : undefined;
    if (!pidns || initStart === undefined) throw new RpcError(GrpcStatus.INVALID_ARGUMENT, `container ${id}: init pid ${String(req.initPid)} is not a running process`);
    if (pidns === pidNamespace('self')) throw new RpcError(GrpcStatus.FAILED_PRECONDITION, `container ${id}: pid ${pid} is in the host's pid namespace, not a container's`);
    const slot = this.freeSlot();
    const readOnly = req.readOnly === true;
    let ahead = false;
    const bound = (() => {
      try {
        const before = parseMountInfo(fs.readFileSync(`/proc/${pid}/mountinfo`, 'utf8'));
        const ro = readOnlyTargets(this.binds.map((b) => b.target), before, readOnly);
        const made = this.clones.take(slot);
        ahead = made !== undefined;
        return bindVirtualFiles(pid, this.o.mountpoint, inSlot(this.binds, slot), null, (t) => ro.has(t), made);
      } catch (e) {
        throw new RpcError(GrpcStatus.FAILED_PRECONDITION, `container ${id}: ${(e as Error).message}`);
      }
    })();
    pauseAt('fs-register');
    const rec: ContainerRecord = {
      ...pre, uid, gid, size, initPid: pid, initStart, pidns, slot,
      initialMounts: initialMounts(parseMountInfo(fs.readFileSync(`/proc/${pid}/mountinfo`, 'utf8'))),
      ignoreSysfsChown: req.ignoreSysfsChown === true,
      allowTrustedXattr: req.allowTrustedXattr === true,
      readOnly,
    };
    this.o.load.set(rec.slot, { load1: 0, load5: 0, load15: 0, running: 0, total: 0, lastPid: 0 });
    sampleOnce(this.o.load, [rec]);
    writeRecord(this.o.stateDir, rec);
    this.recs.set(id, rec);
    this.o.generation.bump();
    this.follow(rec);
    this.clones.prepareSoon();
    this.o.log.debug(`${id}: registered in slot ${slot} in ${(performance.now() - t0).toFixed(1)} ms (${ahead ? 'clones made ahead' : 'cloned now'})`);
    return bound;
  }

  unregister(req: { id?: unknown }): void {
    const id = checkId(req.id);
    if (!this.recs.has(id)) throw new RpcError(GrpcStatus.NOT_FOUND, `container ${id} is not registered`);
    this.forget(id);
  }

  private forget(id: string): void {
    pauseAt('fs-forget');
    const slot = this.recs.get(id)?.slot;
    if (slot !== undefined && slot >= 0) {
      this.freedAt.set(slot, performance.now());
      this.saveRestingSlots();
      this.o.log.debug(`${id}: slot ${slot} freed; it rests before another container gets it`);
    }
    this.recs.delete(id);
    removeRecord(this.o.stateDir, id);
    this.o.generation.bump();
    // Wakes the FUSE workers (one request is enough: the leader wakes the helpers), which then
    // close the cgroup files of the container they kept open (FileTree.idle).
    fs.promises.readdir(this.o.mountpoint).catch(() => {});
    this.o.onForgotten?.();
  }

  private follow(rec: ContainerRecord): void {
    try {
      native.watchExit(rec.initPid, () => {
        if (this.recs.get(rec.id)?.initPid !== rec.initPid) return;
        this.o.log.debug(`${rec.id}: init ${rec.initPid} exited; forgetting the container`);
        this.forget(rec.id);
      });
    } catch {
      this.forget(rec.id);
    }
  }

  /** Slots' rest outlives a restart (slots.ts): a failed write only costs that, so it is logged. */
  private saveRestingSlots(): void {
    try {
      // At every container's exit: not renamed over the old file (whole-file.ts).
      writeWholeFile(restingSlotsFile(this.o.stateDir), JSON.stringify(restingAsWallClock(this.freedAt, performance.now(), Date.now())));
    } catch (e) {
      this.o.log.warn(`resting slots not saved: ${(e as Error).message}`);
    }
  }

  private usedSlots(): Set<number> {
    return new Set([...this.recs.values()].map((r) => r.slot));
  }

  /** The slot a Register would get now (slots.ts), undefined if none is free; nothing taken. */
  private nextSlot(): number | undefined {
    return pickSlot(LOAD_SLOTS, this.usedSlots(), this.freedAt, performance.now());
  }

  private freeSlot(): number {
    const slot = this.nextSlot();
    if (slot === undefined) throw new RpcError(GrpcStatus.RESOURCE_EXHAUSTED, `more than ${LOAD_SLOTS} containers`);
    this.freedAt.delete(slot);
    return slot;
  }
}
