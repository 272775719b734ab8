// sysbox-mgr's command line: the original's flags, names and defaults (nestybox/sysbox-mgr main.go),
// plus the paths this implementation lets tests move. The container flags are the defaults of every
// container's config (@sysbox/common/container-config), which SYSBOX_* variables override.
import { DATA_ROOT, MGR_SOCKET, MOUNT_ROOT, RUNC_PATH } from '@sysbox/common';
import type { ContainerConfig } from '@sysbox/common/container-config';
import { daemonCli, logArgs, type LogArgs } from '@sysbox/common/daemon/cli';

/** What the manager itself does differently; fixed for the daemon's lifetime. */
export interface MgrFeatures {
  /** Do not archive inner images into the rootfs on pause/stop (no preload via docker commit). */
  disableInnerImagePreload: boolean;
  /** No ID-mapped mounts: the rootfs is chowned (cloned first unless disabled), binds show nobody. */
  disableIdmappedMount: boolean;
  /** Chown the rootfs in place instead of a copy-on-write clone. */
  disableRootfsCloning: boolean;
  /** Do not mount the overlay rootfs over ID-mapped layers (the original's overlayfs-on-ID-mapped-mounts): chown it. */
  disableOvfsOnIdmappedMount: boolean;
  /** Fail the container when uid-mapping of its files fails, instead of starting it with nobody-owned files. */
  fsuidMapFailOnError: boolean;
}

/** One start-up line per manager feature that differs from the default, as the original logs them. */
export function featureLines(f: MgrFeatures): string[] {
  const out: string[] = [];
  if (f.disableInnerImagePreload) out.push('inner image preload disabled: inner data is not archived into the rootfs on pause/stop but kept beside it until the container is removed (images already in an image are still restored)');
  if (f.disableIdmappedMount) out.push('use of ID-mapped mounts disabled: rootfs owners shifted with chown, bind mounts not ID-mapped');
  else if (f.disableOvfsOnIdmappedMount) out.push('overlayfs on ID-mapped layers disabled: overlay rootfs owners shifted with chown (bind mounts still ID-mapped)');
  if (f.disableRootfsCloning) out.push('rootfs cloning disabled: a rootfs that must be chowned is chowned in place');
  if (f.fsuidMapFailOnError) out.push('fsuid-map-fail-on-error: a container whose bind sources cannot be ID-mapped is refused');
  return out;
}

export interface MgrArgs extends LogArgs {
  dataRoot: string;
  socket: string;
  mountRoot: string;
  subuidFile: string;
  subgidFile: string;
  pidfile?: string;
  /** Pre-started sysbox-runc creates to keep (create-spares.ts). */
  createSpares: number;
  /** The low-level runtime sysbox-runc drives (executor.ts): --executor, else runc. */
  executor: string;
  /** --executor was given (checked at start; the default is the package's dependency). */
  executorGiven: boolean;
  /** Flags accepted for compatibility that cannot act on this kernel, with the reason (logged once). */
  inert: { flag: string; reason: string }[];
  containerDefaults: ContainerConfig;
  features: MgrFeatures;
}

const SHIFTFS_ABSENT = 'shiftfs does not exist on this kernel; Sysbox uses ID-mapped mounts';

function spareCount(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 16) throw new Error(`--create-spares must be a whole number from 0 to 16, not ${n}`);
  return n;
}

export function parseMgrArgs(args: string[]): MgrArgs {
  const argv = daemonCli('sysbox-mgr', 'Sysbox manager daemon: id ranges, ID-shifted mounts, per-container host dirs, container state.\nContainer flags set the default of every container; SYSBOX_* variables in a container\'s environment override them (docs/usage.md).', args)
    .option('data-root', { type: 'string', default: DATA_ROOT, describe: 'root directory for the sysbox data store' })
    .option('socket', { type: 'string', default: MGR_SOCKET, describe: 'gRPC unix socket' })
    .option('mount-root', { type: 'string', default: MOUNT_ROOT, describe: 'per-container mount points (must be traversable by container ids)' })
    .option('subuid-file', { type: 'string', default: '/etc/subuid' })
    .option('subgid-file', { type: 'string', default: '/etc/subgid' })
    .option('pidfile', { type: 'string', describe: 'write the daemon pid here (default: sysmgr.pid in the socket\'s directory)' })
    .group(['honor-caps', 'syscont-mode', 'ignore-sysfs-chown', 'allow-trusted-xattr', 'relaxed-read-only'], 'Container defaults:')
    .option('honor-caps', { type: 'boolean', default: false, describe: 'keep the capabilities the container manager passes (SYSBOX_HONOR_CAPS); otherwise root gets all, others none' })
    .option('syscont-mode', { type: 'boolean', default: true, describe: 'system-container mode; false: set up strictly per the spec, plus user and cgroup namespaces (SYSBOX_SYSCONT_MODE)' })
    .option('ignore-sysfs-chown', { type: 'boolean', default: false, describe: 'chown of /sys inside succeeds without effect; traps chown syscalls (SYSBOX_IGNORE_SYSFS_CHOWN)' })
    .option('allow-trusted-xattr', { type: 'boolean', default: false, describe: 'allow trusted.overlay.* xattrs inside; traps *xattr syscalls (SYSBOX_ALLOW_TRUSTED_XATTR)' })
    .option('relaxed-read-only', { type: 'boolean', default: false, describe: 'with --read-only, keep sysbox-fs mounts and special dirs (/var/lib/docker ...) writable' })
    .group(['create-spares', 'executor', 'alias-dns', 'disable-inner-image-preload', 'disable-idmapped-mount', 'disable-rootfs-cloning', 'disable-ovfs-on-idmapped-mount', 'fsuid-map-fail-on-error', 'disable-shiftfs', 'disable-shiftfs-on-fuse', 'disable-shiftfs-precheck'], 'Manager:')
    .option('create-spares', { type: 'number', default: 2, describe: 'pre-started sysbox-runc creates to keep waiting (each ~45 MB; 0: none, every create starts Node)' })
    .option('executor', { type: 'string', describe: `the low-level runtime sysbox-runc drives (default ${RUNC_PATH}; crun: /usr/bin/crun); sysbox-runc --executor overrides it` })
    .option('alias-dns', { type: 'boolean', default: true, describe: 'give the container a DNS address that is not localhost (needed on user-defined Docker networks for inner containers)' })
    .option('disable-inner-image-preload', { type: 'boolean', default: false, describe: 'do not carry inner images into docker commit/build (kept across stop/start until docker rm); makes container stop faster' })
    .option('disable-idmapped-mount', { type: 'boolean', default: false, describe: 'do not use ID-mapped mounts; the rootfs is chowned and bind mounts show nobody:nogroup (testing)' })
    .option('disable-rootfs-cloning', { type: 'boolean', default: false, describe: 'chown the rootfs without cloning it first (slower start when it must be chowned)' })
    .option('disable-ovfs-on-idmapped-mount', { type: 'boolean', default: false, describe: 'do not mount the overlay rootfs over ID-mapped layers; chown it instead (testing)' })
    .option('fsuid-map-fail-on-error', { type: 'boolean', default: false, describe: 'fail the container when its files cannot be uid-mapped, instead of starting it with nobody-owned files' })
    .option('disable-shiftfs', { type: 'boolean', default: false, describe: 'accepted for compatibility; shiftfs is never used' })
    .option('disable-shiftfs-on-fuse', { type: 'boolean', default: false, describe: 'accepted for compatibility; shiftfs is never used' })
    .option('disable-shiftfs-precheck', { type: 'boolean', default: false, describe: 'accepted for compatibility; shiftfs is never used' })
    .parseSync();

  const inert = ['disable-shiftfs', 'disable-shiftfs-on-fuse', 'disable-shiftfs-precheck']
    .filter((f) => argv[f] === true)
    .map((flag) => ({ flag, reason: SHIFTFS_ABSENT }));
  return {
    ...logArgs(argv),
    dataRoot: argv['data-root'],
    socket: argv.socket,
    mountRoot: argv['mount-root'],
    subuidFile: argv['subuid-file'],
    subgidFile: argv['subgid-file'],
    pidfile: argv.pidfile,
    createSpares: spareCount(argv['create-spares']),
    executor: argv.executor ?? RUNC_PATH,
    executorGiven: argv.executor !== undefined,
    inert,
    containerDefaults: {
      honorCaps: argv['honor-caps'],
      syscontMode: argv['syscont-mode'],
      ignoreSysfsChown: argv['ignore-sysfs-chown'],
      allowTrustedXattr: argv['allow-trusted-xattr'],
      relaxedReadOnly: argv['relaxed-read-only'],
      skipUidShift: [],
      // Every container's, answered in Register: sysbox-runc does the aliasing (lifecycle/alias-dns.ts).
      aliasDns: argv['alias-dns'],
    },
    features: {
      disableInnerImagePreload: argv['disable-inner-image-preload'],
      disableIdmappedMount: argv['disable-idmapped-mount'],
      disableRootfsCloning: argv['disable-rootfs-cloning'],
      disableOvfsOnIdmappedMount: argv['disable-ovfs-on-idmapped-mount'],
      fsuidMapFailOnError: argv['fsuid-map-fail-on-error'],
    },
  };
}
