// Turns a bundle into a system-container bundle: refuse what cannot work, have sysbox-mgr register
// the container (id range, ID-shifted rootfs, ID-mapped bind sources, all or nothing) while sysbox-fs
// pre-registers it (and names its seccomp listener), apply the transform list, write the new
// config.json into the container's run dir, and give this process the container's OOM score (runc
// inherits it) and leave the marker of a systemd init. If anything fails, each daemon that took the container
// releases it before the error propagates.
import fs from 'node:fs';
import path from 'node:path';
import { isBindMount, type IdMapping, type Namespace } from '../spec/oci.js';
import { stringifyExactJson } from '../spec/exact-json.js';
import { loadSpec, rootfsPath } from '../spec/load.js';
import { applyTransforms } from '../spec/transforms/index.js';
import { wantedSpecialDirs } from '../spec/transforms/special-dirs.js';
import { keepAddedReadOnly } from '../spec/transforms/read-only.js';
import { SPECIAL_DIRS } from '@sysbox/common/paths';
import { DEFAULT_CONTAINER_CONFIG, KnobError, knobEntries, mergeConfig, parseKnobs, type ContainerConfig } from '@sysbox/common/container-config';
import { RefusedError, refusal } from '../spec/validate.js';
import { StepLaps } from '@sysbox/common/step-laps';
import { log } from '../log.js';
import type { GlobalContext } from '../context.js';
import { connectFs, explainFsError } from './fs.js';
import { againIfLost, connectMgr, explainMgrError, isNotFound } from './mgr.js';
import { configFromReply, recordConfig } from './container-config.js';
import { recordExecRootCapabilities } from './exec-capabilities.js';
import { applyOomScore, recordOomScore, takeOomScore, type OomScoreHost } from './oom-score.js';
import type { FsClient, MgrClient } from '@sysbox/common';
import { initIsSystemd, markSystemdInit, recordInitPid } from './systemd-init.js';
import { aliasDns } from './alias-dns.js';
import { bindSpecialDirsHere } from './special-dir-binds.js';

export interface PreparedContainer {
  /** Bundle dir to hand runc (holds the rewritten config.json). */
  bundle: string;
  /** Releases everything sysbox-mgr holds for the container. */
  release(): Promise<void>;
  /**
   * Tells sysbox-mgr and sysbox-fs the init pid: sysbox-fs mounts the virtual files into the
   * container, and both release the container when init exits.
   */
  created(initPid: number): Promise<void>;
  close(): void;
}

/**
 * The network namespace the spec joins (Docker's --net=container: and CRI's pod containers name
 * `/proc/PID/ns/net`), '' for a new one or when the spec also names the user namespace to join.
 */
export function joinedNetns(namespaces: readonly Namespace[] | undefined): string {
  if (namespaces?.some((n) => n.type === 'user' && n.path)) return '';
  return namespaces?.find((n) => n.type === 'network')?.path ?? '';
}

const toMgr = (m: IdMapping): { containerId: number; hostId: number; size: number } => ({ containerId: m.containerID, hostId: m.hostID, size: m.size });

/** What a pre-started create brings: its open connections, and the launcher whose runc gets the OOM score. */
export interface PrestartedOptions {
  mgr: MgrClient;
  fsd: FsClient;
  oomHost: OomScoreHost;
}

export async function prepareSystemContainer(ctx: Pick<GlobalContext, 'mgrSocket' | 'fsSocket'>, id: string, bundle: string, pre?: PrestartedOptions): Promise<PreparedContainer> {
  const { mgrSocket, fsSocket } = ctx;
  // Connect first: the HTTP/2 handshakes proceed while the spec is read and checked.
  const mgr = pre?.mgr ?? connectMgr(mgrSocket);
  const fsd = pre?.fsd ?? connectFs(fsSocket);
  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw explainMgrError(err, mgrSocket);
    }
  };
  const fsCall = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw explainFsError(err, fsSocket);
    }
  };
  const ignoreNotFound = (err: unknown): void => {
    if (!isNotFound(err)) throw err;
  };
  // Each daemon is told to let go only if it took the container: a refused Register (an id
  // already in use) must not release the container that holds that id.
  const unregister = async (inMgr: boolean, inFs: boolean): Promise<void> => {
    await Promise.all([
      inFs ? fsCall(async () => { await fsd.unregister({ id }).catch(ignoreNotFound); }) : undefined,
      inMgr ? call(async () => { await mgr.unregister({ id }); }) : undefined,
    ]);
  };
  const release = (): Promise<void> => unregister(true, true);
  // Only the connections opened here: a pre-started create keeps its own open for its next create.
  const close = (): void => {
    if (!pre?.mgr) mgr.close();
    if (!pre?.fsd) fsd.close();
  };
  let inMgr = false;
  let inFs = false;
  // Each step's time, the daemons' Register and PreRegister (side by side) among them, for the
  // debug line (docs/troubleshooting.md: a slow create).
  const laps = new StepLaps();
  try {
    const spec = loadSpec(bundle);
    const refused = refusal(spec);
    if (refused) throw new RefusedError(refused);
    const configEnv = knobEntries(spec.process?.env);
    let overrides: Partial<ContainerConfig>;
    try {
      overrides = parseKnobs(configEnv);
    } catch (err) {
      if (err instanceof KnobError) throw new RefusedError(err.message);
      throw err;
    }
    const linux = spec.linux!;
    const preMapped = (linux.uidMappings?.length ?? 0) > 0;
    // With mappings from the spec (Docker's userns-remap) nothing is shifted: Docker already chowned
    // its layers. /var/lib/docker and friends are still backed, or an inner Docker falls back to vfs.
    // Docker's own file, before the transforms swap bind sources for ID-mapped views of them.
    const resolvConf = (spec.mounts ?? []).find((m) => m.destination === '/etc/resolv.conf' && isBindMount(m))?.source;
    const specialDirs = wantedSpecialDirs(SPECIAL_DIRS, (spec.mounts ?? []).map((m) => m.destination));
    laps.lap('spec');
    log('debug', `registering ${id}`);
    // Both at once: neither needs the other's answer (sysbox-fs gets the ids at Register).
    const [mgrReg, fsPre] = await Promise.allSettled([
      call(() => mgr.register({
        id,
        bundle,
        rootfs: rootfsPath(bundle, spec),
        binds: (spec.mounts ?? []).filter(isBindMount).map((m) => ({ source: m.source ?? '', destination: m.destination })),
        uidMappings: preMapped ? linux.uidMappings!.map(toMgr) : [],
        gidMappings: preMapped ? (linux.gidMappings ?? []).map(toMgr) : [],
        specialDirs,
        configEnv,
        netnsPath: joinedNetns(linux.namespaces),
      })),
      fsCall(() => fsd.preRegister({ id })).then((r) => { log('debug', `pre-registered ${id} in sysbox-fs`); return r; }),
    ]);
    inMgr = mgrReg.status === 'fulfilled';
    inFs = fsPre.status === 'fulfilled';
    if (mgrReg.status === 'rejected') throw mgrReg.reason;
    if (fsPre.status === 'rejected') throw fsPre.reason;
    const reg = mgrReg.value;
    const fsReg = fsPre.value;
    log('debug', `registered ${id}: ids ${reg.uid}+${reg.size}, rootfs ${reg.rootfs}`);
    laps.lap('Register');
    // A manager that predates the config answers none: its defaults were the original's.
    const config = reg.config ? configFromReply(reg.config) : mergeConfig(DEFAULT_CONTAINER_CONFIG, overrides);
    applyTransforms(spec, {
      config,
      seccompListener: fsReg.seccompListener ?? '',
      uid: reg.uid ?? 0, gid: reg.gid ?? 0, size: reg.size ?? 0, preMapped,
      usernsPath: reg.usernsPid ? `/proc/${reg.usernsPid}/ns/user` : undefined,
      rootfs: reg.rootfs ?? '', bindSources: reg.bindSources ?? [],
      // sysbox-mgr backs none outside system-container mode (it knows the effective config first).
      specialDirs: config.syscontMode ? specialDirs : [], specialDirSources: reg.specialDirSources ?? [],
    });
    laps.lap('transforms');
    if (config.syscontMode) bindSpecialDirsHere(reg.specialDirSources ?? [], reg.specialDirHostDirs ?? []);
    laps.lap('special dirs');
    const oomScore = takeOomScore(spec, pre?.oomHost);
    const runDir = reg.runDir ?? '';
    fs.writeFileSync(path.join(runDir, 'config.json'), stringifyExactJson(spec), { mode: 0o600 });
    laps.lap('spec written');
    recordOomScore(runDir, oomScore);
    recordConfig(runDir, config);
    recordExecRootCapabilities(runDir, config);
    laps.lap('records');
    markSystemdInit(runDir, initIsSystemd(rootfsPath(bundle, spec), spec.process?.args, spec.process?.env));
    laps.lap('systemd check');
    // On this process, so that runc and the container inherit score and floor (see oom-score.ts).
    applyOomScore(oomScore, pre?.oomHost);
    laps.lap('oom score');
    const created = async (initPid: number): Promise<void> => {
      log('debug', `created ${id}: init ${initPid}`);
      recordInitPid(runDir, initPid);
      if (config.aliasDns && resolvConf) {
        // Inner containers without DNS is no reason to refuse the container: say so and go on.
        try { aliasDns(initPid, resolvConf); } catch (err) { log('warning', `DNS of ${id} not aliased: ${(err as Error).message}`); }
      }
      await Promise.all([
        // Created only records the init and delegates its cgroups: safe to send again to a restarted sysbox-mgr.
        call(async () => {
          const t0 = performance.now();
          await againIfLost(() => mgr.created({ id, initPid }));
          log('debug', `sysbox-mgr watches ${id} (Created ${(performance.now() - t0).toFixed(1)} ms)`);
        }),
        fsCall(async () => {
          const t0 = performance.now();
          const r = await fsd.register({
            id, initPid, uid: reg.uid ?? 0, gid: reg.gid ?? 0, size: reg.size ?? 0,
            ignoreSysfsChown: config.ignoreSysfsChown, allowTrustedXattr: config.allowTrustedXattr,
            readOnly: keepAddedReadOnly(spec, config),
          });
          log('debug', `sysbox-fs serves ${id} (Register ${(performance.now() - t0).toFixed(1)} ms): ${(r.virtualPaths ?? []).join(' ')}`);
        }),
      ]);
    };
    log('debug', `transformed ${id} (${laps.toString()})`);
    return { bundle: runDir, release, created, close };
  } catch (err) {
    await unregister(inMgr, inFs).catch(() => {});
    close();
    throw err;
  }
}
