// The sysbox-mgr API (proto/sysboxmgr.proto) over the in-memory container table, the range
// allocator and the on-disk records. Handlers run synchronously, so requests never interleave,
// except around the archive of a container's inner data (preload.ts), which runs in child processes
// while other requests are served: a container being archived for its release stays in the table
// (its ids, mounts and record held) until the release is done, and whoever needs it gone waits.
import fs from 'node:fs';
import path from 'node:path';
import type {
  ContainerInfo, ContainerRef, CreatedRequest, Empty, ListContainersReply, RegisterReply, RegisterRequest, StatusReply,
} from '@sysbox/common';
import { GrpcStatus, ID_RANGE_SIZE, VERSION } from '@sysbox/common';
import { SPECIAL_DIRS } from '@sysbox/common/paths';
import { PoolExhaustedError, RangeAllocator, type Pool } from './allocator.js';
import { delegateCgroups } from './cgroup-delegation.js';
import { diskFullMessage, isDiskFull } from './disk-full.js';
import * as native from '@sysbox/native';
import { processStartTime, userNamespaceOf } from '@sysbox/common/proc';
import { isSameProcessAlive, watchInit } from './init-watch.js';
import { canArchiveInto, restoreSpecialDir, saveSpecialDir } from './preload.js';
import { endReleaseSignal, holdReleaseSignal, removeRunDir } from './release-signal.js';
import { outermost, parseMountInfo } from './mountinfo.js';
import { prepareSpecialDir, type SpecialDir } from './special-dirs.js';
import { IdmapUnsupportedError, idmapBind, isOverlayMount, mountsUnder, openMappingUserns, plainBind, releaseMount, remountOverlay, shiftRootfs } from './idshift.js';
import { chownRootfs, unchownRootfs, writeBackRunning } from './rootfs-chown.js';
import { KeptSpecialDirs, type KeptDirs } from './kept-special-dirs.js';
import { awaitRootfsView, settleRootfsView, startRootfsView, stopRootfsView, stopRootfsViewAsync, type StartingView } from './rootfs-view/process.js';
import type { Logger } from '@sysbox/common/daemon/logger';
import { KnobError, mergeConfig, parseKnobs, type ContainerConfig } from '@sysbox/common/container-config';
import type { MgrFeatures } from './flags.js';
import type { ContainerRecord, StateStore } from './state-store.js';
import { StepLaps } from '@sysbox/common/step-laps';
import { pauseAt } from '@sysbox/common/test-pause';

/** A destination as SYSBOX_SKIP_UID_SHIFT names it (no trailing slash). */
function normalDestination(p: string): string {
  return path.posix.normalize(p).replace(/\/+$/, '') || '/';
}

/** Which SYSBOX_SKIP_UID_SHIFT paths name bind-mount destinations, and which name none (ignored, as in the original). */
export function skippedDestinations(paths: readonly string[], destinations: readonly string[]): { skipped: Set<string>; unmatched: string[] } {
  const dests = new Set(destinations.map(normalDestination));
  const skipped = new Set<string>();
  const unmatched: string[] = [];
  for (const p of paths.map(normalDestination)) {
    if (dests.has(p)) skipped.add(p);
    else unmatched.push(p);
  }
  return { skipped, unmatched };
}

export class ServiceError extends Error {
  constructor(readonly code: number, message: string) { super(message); }
}

/** Same rule as runc's container id check. */
const ID_PATTERN = /^[\w+.-]+$/;

export interface MgrOptions {
  pool: Pool;
  mountRoot: string;
  dataRoot: string;
  /** From the daemon's flags; a container's SYSBOX_* variables override them. */
  containerDefaults: ContainerConfig;
  features: MgrFeatures;
  /** After each container's release (the daemon then gives freed memory back once quiet). */
  onReleased?: () => void;
}

export class MgrService {
  private readonly containers = new Map<string, ContainerRecord>();
  private readonly allocator: RangeAllocator;
  private readonly kept: KeptSpecialDirs;
  /** Releases waiting for an archive of inner data, by container id: one at a time per container. */
  private readonly releasing = new Map<string, Promise<void>>();
  /** The last archive started per container: the next one (a pause, then the stop) runs after it. */
  private readonly archiving = new Map<string, Promise<void>>();
  /** Rootfs views started at Register whose readiness Created has not yet seen, by container id. */
  private readonly startingViews = new Map<string, StartingView>();

  constructor(private readonly opts: MgrOptions, private readonly store: StateStore, private readonly log: Logger) {
    this.allocator = new RangeAllocator(opts.pool, ID_RANGE_SIZE);
    this.kept = new KeptSpecialDirs(path.join(opts.dataRoot, 'mgr', 'kept'), log);
    fs.mkdirSync(opts.mountRoot, { recursive: true, mode: 0o711 });
    fs.chmodSync(opts.mountRoot, 0o711);
    for (const rec of store.loadAll()) {
      if (!fs.existsSync(rec.runDir)) {
        // /run is empty after a reboot: the container cannot be running any more.
        log.info(`dropping stale record of ${rec.id} (its run dir is gone)`);
        store.remove(rec.id);
        continue;
      }
      this.containers.set(rec.id, rec);
      if (rec.allocated) this.allocator.reserve(rec.uid);
      if (rec.initPid > 0) this.watch(rec);
    }
    // Special dirs of released containers whose removal a crash cut short.
    fs.rmSync(this.removingDir(), { recursive: true, force: true });
    // A crash between a run dir's rename and its removal (release-signal.ts).
    for (const name of fs.readdirSync(opts.mountRoot)) {
      const gone = path.join(opts.mountRoot, name);
      if (name.endsWith(':released') && mountsUnder(gone).length === 0) fs.rmSync(gone, { recursive: true, force: true });
    }
    log.info(`loaded ${this.containers.size} container records; ${this.allocator.free} of ${this.allocator.capacity} id ranges free`);
  }

  private get(id: string | undefined): ContainerRecord {
    const rec = id ? this.containers.get(id) : undefined;
    if (!rec) throw new ServiceError(GrpcStatus.NOT_FOUND, `container ${id ?? ''} is not registered`);
    return rec;
  }

  private save(rec: ContainerRecord): void {
    this.store.save(rec);
  }

  status(): StatusReply {
    return {
      version: VERSION,
      pid: process.pid,
      containers: this.containers.size,
      subidPoolStart: this.opts.pool.start,
      subidPoolSize: this.opts.pool.count,
      subidRangesFree: this.allocator.free,
      dataRoot: this.opts.dataRoot,
    };
  }

  /**
   * Releases still archiving that stand in the way of a container: its own previous life (same id)
   * and holders of the data dirs it binds exclusively.
   */
  private releasesInTheWay(req: RegisterRequest): Promise<void>[] {
    const sources = (req.binds ?? []).filter((b) => SPECIAL_DIRS.includes((b.destination ?? '').replace(/\/+$/, ''))).map((b) => path.resolve(b.source ?? ''));
    return [...this.releasing.entries()]
      .filter(([id]) => {
        if (id === req.id) return true;
        const holder = this.containers.get(id);
        return holder?.exclusiveSources?.some((s) => sources.includes(s)) ?? false;
      })
      .map(([, p]) => p);
  }

  /** Record, id range and mounts of a new container: all of them, or on error none. */
  async register(req: RegisterRequest): Promise<RegisterReply> {
    const id = req.id ?? '';
    if (!ID_PATTERN.test(id)) throw new ServiceError(GrpcStatus.INVALID_ARGUMENT, `invalid container id "${id}"`);
    const old = this.containers.get(id);
    if (old && old.initPid > 0 && !this.releasing.has(id) && !isSameProcessAlive(old.initPid, old.initStartTime)) {
      // Re-created (docker restart) before the exit of its previous init was handled: released
      // (inner data archived, as on any stop) before the new life, which may restore it.
      void this.release(old).catch(() => {});
    }
    // Awaited before anything is looked at; from then on the request runs without interleaving.
    for (let waiting = this.releasesInTheWay(req); waiting.length > 0; waiting = this.releasesInTheWay(req)) {
      this.log.debug(`container ${id}: register waits for ${waiting.length} release(s) archiving inner data`);
      await Promise.allSettled(waiting);
    }
    return this.registerNow(req);
  }

  private registerNow(req: RegisterRequest): RegisterReply {
    this.settleStartingViews();
    const t0 = process.hrtime.bigint();
    const id = req.id ?? '';
    const old = this.containers.get(id);
    if (old && old.initPid > 0 && !isSameProcessAlive(old.initPid, old.initStartTime)) {
      // Its release above failed half-way: finished now (without a second archive), or the error.
      this.releaseNow(old);
    } else if (old) {
      throw new ServiceError(GrpcStatus.ALREADY_EXISTS, `container ${id} is already registered`);
    }
    const rootfs = req.rootfs ?? '';
    if (!path.isAbsolute(rootfs) || !fs.existsSync(rootfs)) {
      throw new ServiceError(GrpcStatus.INVALID_ARGUMENT, `rootfs ${rootfs} does not exist`);
    }
    const exclusive = (req.binds ?? []).filter((b) => SPECIAL_DIRS.includes((b.destination ?? '').replace(/\/+$/, '')));
    for (const b of exclusive) {
      const holder = [...this.containers.values()].find((c) => c.exclusiveSources?.includes(path.resolve(b.source ?? '')));
      if (holder) {
        throw new ServiceError(GrpcStatus.FAILED_PRECONDITION,
          `${b.source} is already mounted at ${b.destination} in container ${holder.id}: two Docker (or containerd/kubelet) instances cannot share one data root`);
      }
    }
    let config: ContainerConfig;
    try {
      config = mergeConfig(this.opts.containerDefaults, parseKnobs(req.configEnv));
    } catch (err) {
      if (err instanceof KnobError) throw new ServiceError(GrpcStatus.INVALID_ARGUMENT, err.message);
      throw err;
    }
    const runDir = path.join(this.opts.mountRoot, id);
    fs.mkdirSync(runDir, { recursive: true, mode: 0o711 });
    const rec: ContainerRecord = {
      id, bundle: req.bundle ?? '', runDir, uid: 0, gid: 0, size: 0, allocated: false,
      state: 'registered', rootfs, mounts: [], replacedRootfs: '', replacedOptions: '', initPid: 0, initStartTime: 0,
      specialDirs: [], exclusiveSources: exclusive.map((b) => path.resolve(b.source ?? '')), config,
    };
    this.containers.set(id, rec);
    try {
      const laps = new StepLaps();
      const usernsPid = this.allocateIds(rec, req);
      laps.lap('ids');
      pauseAt('mgr-register-ids');
      // Outside system-container mode the container gets only what its spec asks for.
      const wantedDirs = config.syscontMode ? (req.specialDirs ?? []) : [];
      // Only a rootfs its manager removes with the container (Docker's overlay, in a layer dir
      // removed on `docker rm`) can tell when kept data may go.
      if (this.opts.features.disableInnerImagePreload && wantedDirs.length > 0 && isOverlayMount(rootfs)) rec.keepFor = path.dirname(rootfs);
      const kept = this.kept.take(id, rec.uid, rec.gid, rec.size);
      if (kept) {
        // The container's own from now on: released (kept again or deleted) with it, even if this start fails.
        rec.specialDirs.push(...kept.dirs);
        rec.reusesKept = true;
        this.save(rec);
      }
      const bindSources = this.prepareMounts(rec, (req.binds ?? []).map((b) => ({ source: b.source ?? '', destination: b.destination ?? '' })), laps);
      laps.lap('binds');
      pauseAt('mgr-register-binds');
      const specialDirs = wantedDirs.map((dest) => this.prepareSpecialDir(rec, dest, kept));
      laps.lap('special dirs');
      pauseAt('mgr-register-special-dirs');
      const unused = rec.specialDirs.filter((d) => !wantedDirs.includes(d.dest));
      if (unused.length > 0) {
        rec.specialDirs = rec.specialDirs.filter((d) => !unused.includes(d));
        this.save(rec);
        for (const d of unused) fs.rmSync(d.hostDir, { recursive: true, force: true });
      }
      this.startRootfsView(rec);
      laps.lap('view');
      pauseAt('mgr-register-rootfs-view');
      this.log.debug(`container ${id}: registered in ${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(1)} ms (${laps.toString()})`);
      return {
        runDir, uid: rec.uid, gid: rec.gid, size: rec.size, rootfs: rec.rootfs, bindSources, config, usernsPid,
        specialDirSources: specialDirs.map((d) => d.mountPoint), specialDirHostDirs: specialDirs.map((d) => d.hostDir),
      };
    } catch (err) {
      const reported = isDiskFull(err)
        ? new ServiceError(GrpcStatus.RESOURCE_EXHAUSTED, diskFullMessage(err as Error, { 'data root': this.opts.dataRoot, 'run dir root': this.opts.mountRoot }))
        : err;
      this.releaseNow(rec);
      throw reported;
    }
  }

  private allocateIds(rec: ContainerRecord, req: RegisterRequest): number {
    const owner = req.netnsPath ? this.containerOwningNetns(req.netnsPath) : undefined;
    if (owner) {
      // Its network namespace belongs to the owner's user namespace: only a process of that user
      // namespace may mount a sysfs for it (or administer it), so the two share namespace and ids.
      rec.uid = owner.uid;
      rec.gid = owner.gid;
      rec.size = owner.size;
      rec.allocated = owner.allocated;
      rec.sharesIdsWith = owner.id;
      this.save(rec);
      this.log.info(`container ${rec.id}: ids ${rec.uid}-${rec.uid + rec.size - 1} shared with ${owner.id} (joins its network namespace)`);
      return owner.initPid;
    }
    const uidMap = req.uidMappings?.find((m) => m.containerId === 0);
    const gidMap = req.gidMappings?.find((m) => m.containerId === 0);
    if (uidMap && gidMap) {
      rec.uid = uidMap.hostId ?? 0;
      rec.gid = gidMap.hostId ?? 0;
      rec.size = Math.min(uidMap.size ?? 0, gidMap.size ?? 0);
    } else {
      try {
        rec.uid = rec.gid = this.allocator.allocate();
      } catch (err) {
        if (err instanceof PoolExhaustedError) throw new ServiceError(GrpcStatus.RESOURCE_EXHAUSTED, err.message);
        throw err;
      }
      rec.size = ID_RANGE_SIZE;
      rec.allocated = true;
    }
    this.save(rec);
    this.log.info(`container ${rec.id}: ids ${rec.uid}-${rec.uid + rec.size - 1}${rec.allocated ? '' : ' (from spec)'}`);
    return 0;
  }

  /**
   * The running system container whose user namespace owns the network namespace at netnsPath.
   * Any other owner is refused: a container in a new user namespace could not mount a sysfs for it
   * (runc would fail with "mount sysfs ... operation not permitted"), nor configure its network.
   */
  private containerOwningNetns(netnsPath: string): ContainerRecord {
    let owner: string;
    try {
      owner = native.namespaceOwner(netnsPath);
    } catch (err) {
      throw new ServiceError(GrpcStatus.INVALID_ARGUMENT, `network namespace ${netnsPath}: ${(err as Error).message}`);
    }
    const holder = [...this.containers.values()].find((c) => c.initPid > 0 && c.size > 0 && userNamespaceOf(c.initPid) === owner);
    if (holder) return holder;
    const whose = owner === userNamespaceOf('self') ? 'the host\'s user namespace' : 'a user namespace that is no running system container\'s';
    throw new ServiceError(GrpcStatus.FAILED_PRECONDITION,
      `network namespace ${netnsPath} belongs to ${whose}: a system container can only join the network namespace of another system container (docker --net=container:<system container>; pods: docs/kubernetes.md)`);
  }

  private prepareSpecialDir(rec: ContainerRecord, dest: string, kept: KeptDirs | undefined): SpecialDir {
    let special: SpecialDir;
    try {
      special = prepareSpecialDir(this.opts.dataRoot, rec.runDir, rec.id, dest, rec.uid, rec.gid);
    } catch (err) {
      throw new ServiceError(GrpcStatus.INVALID_ARGUMENT, (err as Error).message);
    }
    if (!rec.specialDirs.some((d) => d.hostDir === special.hostDir)) rec.specialDirs.push({ dest, hostDir: special.hostDir });
    rec.mounts.push(special.mountPoint);
    this.save(rec);
    if (kept?.dirs.some((d) => d.hostDir === special.hostDir)) {
      this.log.info(`container ${rec.id}: ${dest} as it was when the container stopped`);
    } else if (restoreSpecialDir(rec.rootfs, dest, special.hostDir, rec.uid, rec.gid)) {
      this.log.info(`container ${rec.id}: ${dest} preloaded from the image`);
    }
    return special;
  }

  /**
   * Whether the rootfs is shifted with chown: without ID-mapped mounts at all, or without an
   * overlay over ID-mapped layers (the original's "overlayfs on ID-mapped mounts"; the overlay
   * itself cannot be ID-mapped on any kernel here). A plain dir keeps its ID-mapped bind then.
   */
  private chownsRootfs(rootfs: string): boolean {
    const f = this.opts.features;
    return f.disableIdmappedMount || (f.disableOvfsOnIdmappedMount && isOverlayMount(rootfs));
  }

  /** Shifted rootfs and ID-mapped bind sources; with mappings from the spec, files are used as they are. */
  private prepareMounts(rec: ContainerRecord, binds: { source: string; destination: string }[], laps?: StepLaps): string[] {
    for (const { source } of binds) {
      if (!path.isAbsolute(source) || !fs.existsSync(source)) {
        throw new ServiceError(GrpcStatus.INVALID_ARGUMENT, `bind mount source ${source} does not exist`);
      }
    }
    if (!rec.allocated) return binds.map((b) => b.source);
    const note = (p: string): void => {
      rec.mounts.push(p);
      this.save(rec);
    };
    const f = this.opts.features;
    const skip = skippedDestinations(rec.config?.skipUidShift ?? [], binds.map((b) => b.destination));
    for (const p of skip.unmatched) this.log.info(`container ${rec.id}: SYSBOX_SKIP_UID_SHIFT names ${p}, which is not a bind-mount destination; nothing to skip there`);
    const mapping = { uid: rec.uid, gid: rec.gid, size: rec.size };
    const userns = openMappingUserns(mapping);
    try {
      const target = path.join(rec.runDir, 'rootfs');
      fs.mkdirSync(target, { recursive: true, mode: 0o755 });
      let how: string;
      if (this.chownsRootfs(rec.rootfs)) {
        const t0 = process.hrtime.bigint();
        const clone = !f.disableRootfsCloning;
        const dir = path.join(this.opts.dataRoot, 'rootfs', rec.id);
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        // Recorded before anything is chowned: release reverts whatever part was done.
        rec.chowned = { mode: clone ? 'clone' : 'in-place', orig: path.join(dir, 'orig'), target, dir };
        this.save(rec);
        chownRootfs(rec.rootfs, target, dir, mapping, clone, note);
        how = `chowned${clone ? ' (cloned)' : ' in place'} in ${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(0)} ms`;
      } else {
        const shifted = shiftRootfs(rec.rootfs, target, mapping, userns, note);
        rec.replacedRootfs = shifted.replaced;
        rec.replacedOptions = shifted.replacedOptions;
        how = 'ID-mapped';
      }
      const source = rec.rootfs;
      rec.rootfs = target;
      this.save(rec);
      // Mostly Docker's overlay taken down: its last reference syncs the upper file system (bench/README.md).
      laps?.lap('rootfs');
      pauseAt('mgr-register-rootfs');
      const bindDir = path.join(rec.runDir, 'binds');
      fs.mkdirSync(bindDir, { recursive: true, mode: 0o711 });
      let mapped = 0;
      const bindSources = binds.map(({ source: src, destination }, i) => {
        const dest = path.join(bindDir, String(i));
        if (f.disableIdmappedMount || skip.skipped.has(normalDestination(destination))) {
          plainBind(src, dest);
          note(dest);
          return dest;
        }
        let idmapped: boolean;
        try {
          ({ idmapped } = idmapBind(src, dest, userns, !f.fsuidMapFailOnError));
        } catch (err) {
          if (err instanceof IdmapUnsupportedError) {
            throw new ServiceError(GrpcStatus.FAILED_PRECONDITION, `bind mount ${src} at ${destination}: ${err.message}; refused because of --fsuid-map-fail-on-error`);
          }
          throw err;
        }
        note(dest);
        if (idmapped) mapped++;
        else this.log.warn(`container ${rec.id}: ${src} cannot be ID-mapped; bound as is (owners show as nobody inside)`);
        return dest;
      });
      this.log.info(`container ${rec.id}: rootfs ${rec.replacedRootfs || source} ${how} at ${target}; ${mapped} of ${bindSources.length} binds ID-mapped`);
      return bindSources;
    } finally {
      fs.closeSync(userns);
    }
  }

  /**
   * Where Docker's overlay was, a view of the shifted rootfs as Docker expects it (owners as inside,
   * host root creating as the container's root): `docker cp` and `docker export` work there. The
   * special dirs show in it where the container sees them.
   */
  private startRootfsView(rec: ContainerRecord): void {
    if (!rec.replacedRootfs) return;
    const mapping = { uid: rec.uid, gid: rec.gid, size: rec.size };
    const t0 = process.hrtime.bigint();
    // Recorded first: after a crash half-way, release must still unmount it, or Docker's overlay
    // would not be put back there.
    rec.mounts.push(rec.replacedRootfs);
    this.save(rec);
    const starting = startRootfsView(rec.replacedRootfs, rec.rootfs, mapping, rec.specialDirs, path.join(rec.runDir, 'rootfs-view.log'));
    rec.rootfsView = starting.view;
    this.startingViews.set(rec.id, starting);
    this.save(rec);
    this.log.debug(`container ${rec.id}: rootfs view at ${rec.replacedRootfs} (pid ${rec.rootfsView.pid}) started in ${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(1)} ms`);
  }

  /**
   * The view started at Register serves by now (it had all of runc create to start), or Created
   * fails and the runtime releases the container. A sysbox-mgr restarted since Register has no
   * record of the start: the view's log and process tell.
   */
  private awaitRootfsView(rec: ContainerRecord): void {
    if (!rec.rootfsView) return;
    const starting = this.startingViews.get(rec.id)
      ?? { view: rec.rootfsView, mountpoint: rec.replacedRootfs, rootfs: rec.rootfs, logFile: path.join(rec.runDir, 'rootfs-view.log') };
    this.startingViews.delete(rec.id);
    const t0 = process.hrtime.bigint();
    try {
      awaitRootfsView(starting);
    } catch (err) {
      throw new ServiceError(GrpcStatus.INTERNAL, (err as Error).message);
    }
    this.log.debug(`container ${rec.id}: rootfs view serves (waited ${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(1)} ms at Created)`);
  }

  /**
   * Before this process changes mounts: every view started at a Register but not yet seen ready
   * has set itself up (or died), so that no copy of a host mount lives on in its namespace
   * (settleRootfsView). Those are the views of creates in flight, a few ms from ready.
   */
  private settleStartingViews(): void {
    for (const v of this.startingViews.values()) settleRootfsView(v);
  }

  /** A release before Created: its view, settled by now, is no longer starting. */
  private forgetStartingView(id: string): void {
    this.startingViews.delete(id);
  }

  created(req: CreatedRequest): Empty {
    const rec = this.get(req.id);
    this.awaitRootfsView(rec);
    const pid = req.initPid ?? 0;
    const start = pid > 0 ? processStartTime(pid) : undefined;
    if (start === undefined) throw new ServiceError(GrpcStatus.INVALID_ARGUMENT, `init pid ${pid} of ${rec.id} is not a live process`);
    rec.initPid = pid;
    rec.initStartTime = start;
    rec.state = 'running';
    this.save(rec);
    pauseAt('mgr-created');
    // Also with a mapping from the spec (Docker's userns-remap): runc leaves the cgroups to host
    // root either way, and without them an inner Docker or systemd cannot make sub-cgroups.
    if (rec.size > 0) {
      const t0 = process.hrtime.bigint();
      const dirs = delegateCgroups(pid, rec.uid, rec.gid);
      this.log.debug(`container ${rec.id}: cgroups delegated to ${rec.uid} in ${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(1)} ms: ${dirs.join(' ')}`);
    }
    this.watch(rec);
    return {};
  }

  private watch(rec: ContainerRecord): void {
    const { id, initPid } = rec;
    try {
      holdReleaseSignal(rec.runDir);
    } catch (err) {
      // The launcher then finds no fifo and releases through Node.
      this.log.warn(`container ${id}: no release fifo in ${rec.runDir}: ${(err as Error).message}`);
    }
    watchInit(initPid, rec.initStartTime, () => {
      const cur = this.containers.get(id);
      if (!cur || cur.initPid !== initPid) return;
      this.log.debug(`container ${id}: init ${initPid} exited; releasing`);
      this.release(cur).catch((err: unknown) => {
        this.log.error(`container ${id}: release after exit of init ${initPid} failed: ${(err as Error).message}`);
      });
    });
  }

  /**
   * A pause is answered only once the inner data is archived: docker commit reads the rootfs as
   * soon as its pause returns. Other requests are served meanwhile.
   */
  async setState(ref: ContainerRef, state: ContainerRecord['state']): Promise<Empty> {
    const rec = this.get(ref.id);
    rec.state = state;
    this.save(rec);
    if (state === 'paused') {
      await this.saveSpecialDirs(rec);
      // Released meanwhile (its init exited): the release archived and wrote back what there was.
      if (rec.chowned && this.containers.get(rec.id) === rec) this.writeBackRunning(rec, rec.chowned);
    }
    return {};
  }

  /** Archives of one container run one after the other (a pause's, then the stop's). */
  private saveSpecialDirs(rec: ContainerRecord, durable = false): Promise<void> {
    const prev = this.archiving.get(rec.id) ?? Promise.resolve();
    // After the previous one whatever its outcome: its failure is its caller's to report.
    const next = prev.catch(() => {}).then(() => this.archiveSpecialDirs(rec, durable));
    this.archiving.set(rec.id, next);
    return next.finally(() => {
      if (this.archiving.get(rec.id) === next) this.archiving.delete(rec.id);
    });
  }

  /** On pause (docker commit pauses) and stop: inner data into the rootfs, so a commit carries it. */
  private async archiveSpecialDirs(rec: ContainerRecord, durable: boolean): Promise<void> {
    if (rec.specialDirs.length === 0) return;
    if (this.opts.features.disableInnerImagePreload) {
      this.log.debug(`container ${rec.id}: inner data not archived into its rootfs (--disable-inner-image-preload)`);
      return;
    }
    if (!canArchiveInto(rec.rootfs, rec.allocated, () => parseMountInfo(fs.readFileSync('/proc/self/mountinfo', 'utf8')))) {
      this.log.warn(`container ${rec.id}: rootfs ${rec.rootfs} is no longer mounted; inner data not archived`);
      return;
    }
    for (const { dest, hostDir } of rec.specialDirs) {
      const t0 = Date.now();
      try {
        if (await saveSpecialDir(hostDir, rec.rootfs, dest, rec.uid, rec.gid, rec.size, durable)) {
          this.log.info(`container ${rec.id}: ${dest} archived into its rootfs in ${Date.now() - t0} ms`);
        }
      } catch (err) {
        // The pause itself succeeded; a commit now just lacks the inner data.
        this.log.error(`container ${rec.id}: ${(err as Error).message}`);
      }
    }
  }

  /** Answered once the container is fully released: Docker may remove its rootfs right after. */
  async unregister(ref: ContainerRef): Promise<Empty> {
    await this.release(this.get(ref.id));
    return {};
  }

  /**
   * Undoes everything held for the container, after archiving its inner data if it ran: a commit
   * of the stopped container (docker build steps are exactly that) carries them, and so does its
   * next start. One release per container at a time; a second caller gets the first's promise.
   * Its id range stays taken until the very end, so it is never handed out while the archive runs.
   */
  private release(rec: ContainerRecord): Promise<void> {
    const pending = this.releasing.get(rec.id);
    if (pending) return pending;
    this.settleStartingViews();
    this.forgetStartingView(rec.id);
    const done = (async () => {
      const t0 = process.hrtime.bigint();
      const ms = (): string => (Number(process.hrtime.bigint() - t0) / 1e6).toFixed(1);
      const laps: string[] = [];
      // From the start, beside the archive (which writes into the shifted rootfs itself, not
      // through the view): a Node process's exit takes 10-60 ms under load, on the path of `docker
      // stop`. Only Docker's overlay put back (releaseNow) must come after it: the view's chroot
      // holds the shifted overlay on the same upper dir.
      const viewGone = rec.rootfsView ? stopRootfsViewAsync(rec.rootfsView).then(() => laps.push(`view gone ${ms()}`)) : undefined;
      if (rec.initPid > 0) await this.saveSpecialDirs(rec, true);
      laps.push(`archived ${ms()}`);
      // Creates may have come while the archive was awaited.
      this.settleStartingViews();
      // The slow part of the teardown (the kernel flushing the overlay as its last user goes)
      // waited for off the event loop; releaseNow then finds these steps done.
      if (rec.chowned) this.unchownRootfs(rec, rec.chowned);
      // On a pool thread (native umountAll): the unmount that drops the overlay's last reference
      // flushes its upper file system (the host's, with whatever else is dirty on it: >100 ms seen
      // under load). umount(8) in a child did the same at 30-120 ms a stop under load 8, its fork
      // and exec included, on the path of `docker stop`.
      // Only the outermost: a lazy unmount detaches everything below too, and each umount2 pays
      // an RCU grace period (16 binds one by one 4.5 ms, their parent alone 0.3 ms, load 20).
      const mounts = outermost([...[...rec.mounts].reverse(), ...mountsUnder(rec.runDir)]);
      // Side by side with the view's exit: the view has a mount namespace of its own (copies of
      // these mounts), so neither waits for the other; whichever ends last drops the overlay's last
      // reference.
      await Promise.all([
        native.umountAll(mounts, native.constants.MNT_DETACH).catch(() => {
          // What is left releaseNow finds and reports.
        }).then(() => laps.push(`unmounted ${ms()}`)),
        viewGone,
      ]);
      this.log.debug(`container ${rec.id}: ${laps.join(', ')} ms after init exit was seen (off the event loop)`);
      const movedAside = this.releaseNow(rec, true);
      // After the run dir is gone, the end of what Docker's delete waits for, and off the release:
      // a real inner Docker store is many files, seconds to remove.
      if (movedAside.length > 0) {
        const t1 = process.hrtime.bigint();
        void Promise.all(movedAside.map((dir) => fs.promises.rm(dir, { recursive: true, force: true }))).then(
          () => this.log.debug(`container ${rec.id}: special dirs removed in ${(Number(process.hrtime.bigint() - t1) / 1e6).toFixed(1)} ms, after the release`),
          (err: unknown) => this.log.error(`container ${rec.id}: removing its special dirs failed: ${(err as Error).message}`),
        );
      }
    })();
    this.releasing.set(rec.id, done);
    // A failed release leaves the run dir: the launcher, woken, sees it and asks through Node.
    done.catch(() => endReleaseSignal(rec.runDir));
    return done.finally(() => this.releasing.delete(rec.id));
  }

  /** Where released containers' special dirs wait for their removal (emptied at start-up). */
  private removingDir(): string {
    return path.join(this.opts.dataRoot, 'mgr', 'removing');
  }

  /**
   * Moves the special dirs out of the way (a rename each: their paths are free for a start again
   * at once, and a crash leaves them where start-up removes them); returns where they went.
   * Undefined if a rename failed (another file system): the caller removes them now.
   */
  private moveSpecialDirsAside(rec: ContainerRecord): string[] | undefined {
    const moved: string[] = [];
    try {
      fs.mkdirSync(this.removingDir(), { recursive: true, mode: 0o700 });
      for (const { hostDir } of rec.specialDirs) {
        const to = path.join(this.removingDir(), `${rec.id}.${path.basename(path.dirname(hostDir))}.${process.hrtime.bigint()}`);
        try {
          fs.renameSync(hostDir, to);
          moved.push(to);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
      return moved;
    } catch (err) {
      this.log.debug(`container ${rec.id}: special dirs removed before the run dir (${(err as Error).message})`);
      for (const dir of moved) fs.rmSync(dir, { recursive: true, force: true });
      return undefined;
    }
  }

  /** Whether the container's special dirs outlive its release (--disable-inner-image-preload). */
  private keepsSpecialDirs(rec: ContainerRecord): boolean {
    // Also when a start again failed: the data it was given back is still the container's.
    return rec.keepFor !== undefined && rec.keepFor !== '' && (rec.initPid > 0 || rec.reusesKept === true) && fs.existsSync(rec.keepFor);
  }

  /**
   * Undoes everything held for the container; safe to repeat after a crash half-way. With
   * deferDirs, the special dirs are moved aside and where they went returned, for the caller to
   * remove after the run dir.
   */
  private releaseNow(rec: ContainerRecord, deferDirs = false): string[] {
    const steps = new StepLaps();
    let movedAside: string[] | undefined;
    this.settleStartingViews();
    this.forgetStartingView(rec.id);
    if (rec.chowned) this.unchownRootfs(rec, rec.chowned);
    for (const m of [...rec.mounts].reverse()) releaseMount(m);
    for (const m of mountsUnder(rec.runDir)) releaseMount(m);
    steps.lap('unmounts');
    // Its chroot holds the shifted overlay: gone before Docker's overlay comes back on that upper dir.
    if (rec.rootfsView) stopRootfsView(rec.rootfsView);
    steps.lap('view');
    pauseAt('mgr-release');
    if (mountsUnder(rec.runDir).length > 0) {
      throw new ServiceError(GrpcStatus.INTERNAL, `mounts remain under ${rec.runDir}; not removing it`);
    }
    if (rec.keepFor && this.keepsSpecialDirs(rec)) {
      // Not archived into the rootfs (--disable-inner-image-preload): kept for a start again, until removal.
      this.kept.keep({ id: rec.id, until: rec.keepFor, uid: rec.uid, gid: rec.gid, size: rec.size, dirs: rec.specialDirs });
    } else if (deferDirs && rec.specialDirs.length > 0 && (movedAside = this.moveSpecialDirsAside(rec)) !== undefined) {
      // Left to the caller.
    } else {
      for (const { hostDir } of rec.specialDirs) fs.rmSync(hostDir, { recursive: true, force: true });
    }
    steps.lap('special dirs');
    if (rec.replacedRootfs && fs.existsSync(rec.replacedRootfs)) {
      try {
        remountOverlay(rec.replacedOptions, rec.replacedRootfs);
      } catch (err) {
        this.log.warn(`container ${rec.id}: could not put Docker's overlay back at ${rec.replacedRootfs}: ${(err as Error).message}`);
      }
    }
    steps.lap('overlay back');
    this.containers.delete(rec.id);
    // A range shared by the containers of one network namespace (a pod) is free once none holds it.
    const stillHeld = [...this.containers.values()].some((c) => c.allocated && c.uid === rec.uid);
    if (rec.allocated && !stillHeld) this.allocator.release(rec.uid);
    this.store.remove(rec.id);
    steps.lap('record');
    // Last: sysbox-runc's launcher takes the run dir's removal for the end of the release
    // (delete waits for it rather than asking for the release itself).
    removeRunDir(rec.runDir);
    this.log.debug(`container ${rec.id}: release steps (ms): ${steps.toString()}`);
    const ids = rec.allocated ? ` ids ${rec.uid}-${rec.uid + rec.size - 1}${stillHeld ? ' (still held by a container sharing them)' : ''}` : '';
    this.log.info(`container ${rec.id}: released${ids}`);
    this.opts.onReleased?.();
    return movedAside ?? [];
  }

  /** docker commit pauses the container: its clone's changes (special dirs' archive included) into Docker's rootfs. */
  private writeBackRunning(rec: ContainerRecord, chowned: NonNullable<ContainerRecord['chowned']>): void {
    const t0 = process.hrtime.bigint();
    try {
      if (writeBackRunning(chowned, { uid: rec.uid, gid: rec.gid, size: rec.size })) {
        this.log.info(`container ${rec.id}: paused; changes in its rootfs clone written back in ${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(0)} ms`);
      }
    } catch (err) {
      // The pause itself succeeded; a commit now just lacks the changes.
      this.log.error(`container ${rec.id}: writing back the clone's changes failed: ${(err as Error).message}`);
    }
  }

  private unchownRootfs(rec: ContainerRecord, chowned: NonNullable<ContainerRecord['chowned']>): void {
    const t0 = process.hrtime.bigint();
    try {
      unchownRootfs(chowned, { uid: rec.uid, gid: rec.gid, size: rec.size });
      this.log.info(`container ${rec.id}: rootfs chowned back${chowned.mode === 'clone' ? ', changes written back, clone removed' : ''} in ${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(0)} ms`);
    } catch (err) {
      this.log.error(`container ${rec.id}: reverting the chowned rootfs failed: ${(err as Error).message}`);
      for (const p of [chowned.target, chowned.orig]) releaseMount(p);
      if (mountsUnder(chowned.dir).length === 0) fs.rmSync(chowned.dir, { recursive: true, force: true });
    }
    rec.chowned = undefined;
    this.save(rec);
  }

  list(): ListContainersReply {
    const containers: ContainerInfo[] = [...this.containers.values()].map((r) => ({
      id: r.id, uid: r.uid, gid: r.gid, size: r.size, state: r.state, mounts: r.mounts, rootfs: r.rootfs, initPid: r.initPid,
    }));
    return { containers };
  }
}
