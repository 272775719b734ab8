// Well-known locations shared by the three binaries.
export const RUN_DIR = '/run/sysbox';
export const MGR_SOCKET = `${RUN_DIR}/sysmgr.sock`;
export const FS_SOCKET = `${RUN_DIR}/sysfs.sock`;
export const DATA_ROOT = '/var/lib/sysbox';
export const RUNC_PATH = '/usr/sbin/runc';
/**
 * The executor sysbox-mgr was started with (its --executor), published beside its socket for
 * sysbox-runc's launcher and Node runtime alike: one line, an absolute path.
 */
export function executorFile(mgrSocket: string): string {
  return `${mgrSocket}.executor`;
}
/** Per-container mount points and rewritten bundles; 0711 so container root ids can traverse it. */
export const MOUNT_ROOT = '/run/sysbox-containers';
export const VERSION = '0.1.0';
/** Size of the exclusive uid/gid range each container gets. */
export const ID_RANGE_SIZE = 65536;
/**
 * Paths inside a system container backed by a per-container host dir owned by the container's root:
 * software stacks overlays there (inner Docker, containerd, kubelet), which the container's own
 * overlay rootfs cannot carry.
 */
export const SPECIAL_DIRS: readonly string[] = ['/var/lib/docker', '/var/lib/containerd', '/var/lib/kubelet'];
/** sysbox-fs: where its FUSE file system is mounted, its seccomp listener, its state. */
export const FS_MOUNTPOINT = '/var/lib/sysboxfs';
export const SECCOMP_SOCKET = `${RUN_DIR}/seccomp.sock`;
export const FS_STATE_DIR = `${DATA_ROOT}/fs`;
