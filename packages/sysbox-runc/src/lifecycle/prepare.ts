// Turns a bundle into a system-container bundle: refuse what cannot work, have sysbox-mgr register
// the container (id range, ID-shifted rootfs, ID-mapped bind sources, all or nothing), apply the
// transform list, write the new config.json into the container's run dir. If anything fails after
// registration, the registration is released before the error propagates.
import fs from 'node:fs';
import path from 'node:path';
import { isBindMount, type IdMapping } from '../spec/oci.js';
import { loadSpec, rootfsPath } from '../spec/load.js';
import { applyTransforms } from '../spec/transforms/index.js';
import { wantedSpecialDirs } from '../spec/transforms/special-dirs.js';
import { SPECIAL_DIRS } from '@sysbox/common/paths';
import { RefusedError, refusal } from '../spec/validate.js';
import { log } from '../log.js';
import { connectMgr, explainMgrError } from './mgr.js';

export interface PreparedContainer {
  /** Bundle dir to hand runc (holds the rewritten config.json). */
  bundle: string;
  /** Releases everything sysbox-mgr holds for the container. */
  release(): Promise<void>;
  /** Tells sysbox-mgr the init pid, after which it releases the container when init exits. */
  created(initPid: number): Promise<void>;
  close(): void;
}

const toMgr = (m: IdMapping): { containerId: number; hostId: number; size: number } => ({ containerId: m.containerID, hostId: m.hostID, size: m.size });

export async function prepareSystemContainer(mgrSocket: string, id: string, bundle: string): Promise<PreparedContainer> {
  // Connect first: the HTTP/2 handshake proceeds while the spec is read and checked.
  const mgr = connectMgr(mgrSocket);
  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw explainMgrError(err, mgrSocket);
    }
  };
  const release = (): Promise<void> => call(async () => { await mgr.unregister({ id }); });
  let registered = false;
  try {
    const spec = loadSpec(bundle);
    const refused = refusal(spec);
    if (refused) throw new RefusedError(refused);
    const linux = spec.linux!;
    const preMapped = (linux.uidMappings?.length ?? 0) > 0;
    // With mappings from the spec nothing is shifted or backed: Docker's userns-remap owns that.
    const specialDirs = preMapped ? [] : wantedSpecialDirs(SPECIAL_DIRS, (spec.mounts ?? []).map((m) => m.destination));
    log('debug', `registering ${id}`);
    const reg = await call(() => mgr.register({
      id,
      bundle,
      rootfs: rootfsPath(bundle, spec),
      binds: (spec.mounts ?? []).filter(isBindMount).map((m) => ({ source: m.source ?? '', destination: m.destination })),
      uidMappings: preMapped ? linux.uidMappings!.map(toMgr) : [],
      gidMappings: preMapped ? (linux.gidMappings ?? []).map(toMgr) : [],
      specialDirs,
    }));
    registered = true;
    log('debug', `registered ${id}: ids ${reg.uid}+${reg.size}, rootfs ${reg.rootfs}`);
    applyTransforms(spec, {
      uid: reg.uid ?? 0, gid: reg.gid ?? 0, size: reg.size ?? 0, preMapped,
      rootfs: reg.rootfs ?? '', bindSources: reg.bindSources ?? [],
      specialDirs, specialDirSources: reg.specialDirSources ?? [],
    });
    const runDir = reg.runDir ?? '';
    fs.writeFileSync(path.join(runDir, 'config.json'), JSON.stringify(spec), { mode: 0o600 });
    const created = (initPid: number): Promise<void> => call(async () => { await mgr.created({ id, initPid }); });
    return { bundle: runDir, release, created, close: () => mgr.close() };
  } catch (err) {
    if (registered) await release().catch(() => {});
    mgr.close();
    throw err;
  }
}
