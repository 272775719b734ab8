// Turns a bundle into a system-container bundle: refuse what cannot work, register with sysbox-mgr,
// get the id range and the ID-shifted mounts, apply the transform list, write the new config.json
// into the container's run dir. Anything half-done is released before the error propagates.
import fs from 'node:fs';
import path from 'node:path';
import { ID_RANGE_SIZE } from '@sysbox/common/paths';
import { isBindMount, type IdMapping } from '../spec/oci.js';
import { loadSpec, rootfsPath } from '../spec/load.js';
import { applyTransforms } from '../spec/transforms/index.js';
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
  const spec = loadSpec(bundle);
  const refused = refusal(spec);
  if (refused) throw new RefusedError(refused);

  const mgr = connectMgr(mgrSocket);
  let runDir: string;
  try {
    log('debug', `registering ${id}`);
    ({ runDir = '' } = await mgr.register({ id, bundle }));
    log('debug', `registered ${id}`);
  } catch (err) {
    mgr.close();
    throw explainMgrError(err, mgrSocket);
  }
  const release = async (): Promise<void> => {
    try {
      await mgr.unregister({ id });
    } catch (err) {
      throw explainMgrError(err, mgrSocket);
    }
  };
  try {
    const linux = spec.linux!;
    const preMapped = (linux.uidMappings?.length ?? 0) > 0;
    const ids = await mgr.subidAlloc(preMapped
      ? { id, uidMappings: linux.uidMappings!.map(toMgr), gidMappings: (linux.gidMappings ?? []).map(toMgr) }
      : { id, size: ID_RANGE_SIZE });
    log('debug', `ids ${ids.uid}/${ids.gid}`);
    const binds = (spec.mounts ?? []).filter(isBindMount).map((m) => ({ source: m.source ?? '' }));
    const prepared = await mgr.prepareMounts({ id, rootfs: rootfsPath(bundle, spec), binds, noShift: preMapped });
    log('debug', `mounts prepared: rootfs ${prepared.rootfs}`);
    applyTransforms(spec, {
      uid: ids.uid ?? 0, gid: ids.gid ?? 0, size: ids.size ?? 0, preMapped,
      rootfs: prepared.rootfs ?? '', bindSources: prepared.bindSources ?? [],
    });
    fs.writeFileSync(path.join(runDir, 'config.json'), JSON.stringify(spec), { mode: 0o600 });
    const created = async (initPid: number): Promise<void> => {
      try {
        await mgr.created({ id, initPid });
      } catch (err) {
        throw explainMgrError(err, mgrSocket);
      }
    };
    return { bundle: runDir, release, created, close: () => mgr.close() };
  } catch (err) {
    await release().catch(() => {});
    mgr.close();
    throw explainMgrError(err, mgrSocket);
  }
}
