/** Error thrown by a failed syscall: errno and code as in Node's fs errors. */
export interface SyscallError extends Error {
  errno: number;
  code: string;
  syscall: string;
}

/**
 * The user namespace owning the namespace at path (/proc/PID/ns/net, /var/run/netns/NAME ...), as
 * "dev:inode" (fs.statSync of a /proc/PID/ns/user link gives the same pair).
 */
export function namespaceOwner(path: string): string;
/** Creates a user namespace with the given /proc/PID/uid_map and gid_map contents; returns an fd to it. */
export function createUserns(uidMap: string, gidMap: string): number;
/** open_tree(OPEN_TREE_CLONE): a detached copy of the mount (or subtree) at path. */
export function openTreeClone(path: string, recursive: boolean): number;
/** Makes a detached mount ID-mapped through the user namespace fd, with private propagation. */
export function setIdmap(mountFd: number, usernsFd: number): void;
/** Attaches a detached mount at target. */
export function moveMount(mountFd: number, target: string): void;
export function mount(source: string, target: string, fstype: string, flags: number, data?: string): void;
/** mount(2) performed with the given fsuid/fsgid on the calling thread, restored afterwards. */
export function mountAs(fsuid: number, fsgid: number, source: string, target: string, fstype: string, flags: number, data: string): void;
export function umount(target: string, flags: number): void;
/** mkfifo(3): a named pipe (the pre-started create's exchange). */
export function mkfifo(path: string, mode: number): void;
/** umount2(2) of each target in order on a pool thread (an overlay's flush then holds no event loop); EINVAL/ENOENT ignored, the first other failure rejects after all were tried. */
export function umountAll(targets: string[], flags: number): Promise<void>;

/** sd_notify(3): sends message to the datagram socket at socketPath (a leading @ names an abstract one). */
export function sdNotify(socketPath: string, message: string): void;

export const constants: {
  MS_RDONLY: number;
  MS_BIND: number;
  MS_REC: number;
  MS_PRIVATE: number;
  MS_SLAVE: number;
  MNT_DETACH: number;
  MS_REMOUNT: number;
  MS_NOSUID: number;
  MS_NODEV: number;
  MS_NOEXEC: number;
};

/** Calls onExit on the event loop once the process exits (pidfd + libuv poll). Throws ESRCH if it is gone. */
export function watchExit(pid: number, onExit: () => void): void;

/** A copy (O_CLOEXEC) of fd `fd` of process `pid` (pidfd_getfd). */
export function pidfdGetfd(pid: number, fd: number): number;
/** poll(2) for POLLIN on fds, blocking the calling thread; returns [fd, revents] of the ready ones. */
export function pollFds(fds: number[], timeoutMs: number): Array<[number, number]>;
/** A listening unix stream socket at path (mode 0600). */
export function unixListen(path: string): number;
/** Accepts one connection, reads until the peer closes; the first fd passed (SCM_RIGHTS) or -1. Null if nothing was pending. */
export function acceptFd(listenFd: number): { fd: number; data: string } | null;

export interface SeccompNotif {
  id: bigint;
  pid: number;
  nr: number;
  arch: number;
  args: bigint[];
}
/** SECCOMP_IOCTL_NOTIF_RECV; null if the tracee went away first. */
export function seccompNotifRecv(fd: number): SeccompNotif | null;
/** SECCOMP_IOCTL_NOTIF_SEND: error is a positive errno (0 = success with val); cont lets the syscall run. False if the tracee is gone. */
export function seccompNotifRespond(fd: number, id: bigint, error: number, val: number, cont: boolean): boolean;
export function seccompNotifIdValid(fd: number, id: bigint): boolean;
/** A NUL-terminated string from another process's memory (process_vm_readv); null for a NULL pointer. */
export function readString(pid: number, addr: bigint, max: number): string | null;

/**
 * In the mount and network namespaces of pid. Without fs: moves each detached mount (an
 * openTreeClone fd) onto its target, a path as pid sees it. With fs: creates a procfs (of pid's pid
 * namespace) or sysfs (of its network namespace) with the mount(2) flags and data given, attaches it
 * on the directory targetFd (from openInRoot), and moves each bind onto its target *inside* the new
 * mount. A bind given as { keep } instead of { fd } moves a clone of that path (resolved like the
 * targets, recursive), taken before any bind is made: what the binds are about to cover can be put
 * back on top. A bind with readOnly is made read-only (recursively) before it is moved. Returns one
 * errno per step, [enter, fs?, ...binds]; steps after a failed enter/fs are not run.
 */
export function mountInNs(pid: number, fs: { fstype: 'proc' | 'sysfs'; targetFd: number; flags: number; data?: string } | null, binds: Array<({ fd: number } | { keep: string }) & { target: string; readOnly?: boolean }>): number[];
/** An O_PATH fd of path as process pid sees it (its root, its cwd, its /proc/self/fd/N); nofollow opens a trailing symlink itself. */
export function openInRoot(pid: number, path: string, nofollow?: boolean): number;
/** setxattr(2) on the file an O_PATH fd (openInRoot) refers to. */
export function xattrSet(fd: number, name: string, value: Buffer, flags: number): void;
/** getxattr(2) on an O_PATH fd's file: the value (at most size bytes; ERANGE if larger), or its length when size is 0. */
export function xattrGet(fd: number, name: string, size: number): Buffer | number;
/** listxattr(2) on an O_PATH fd's file: every name, NUL-terminated. */
export function xattrList(fd: number): Buffer;
/**
 * A directory's entries (no . or ..), each as three items: name, lstat's st_mode, and a symlink's
 * target (null for anything else). Entries gone between readdir and lstat are left out.
 */
export function listDir(path: string): Array<string | number | null>;
/** removexattr(2) on an O_PATH fd's file. */
export function xattrRemove(fd: number, name: string): void;
/** Exactly length bytes of another process's memory (process_vm_readv). */
export function readMemory(pid: number, addr: bigint, length: number): Buffer;
/** Writes data into another process's memory (process_vm_writev). */
export function writeMemory(pid: number, addr: bigint, data: Buffer): void;

/** malloc_trim(0): returns freed heap pages of every malloc arena to the kernel; true if any were. */
export function mallocTrim(): boolean;
/** A full GC of the calling thread's V8 heap that also shrinks its young generation and frees pooled pages (a critical memory-pressure notification). */
export function releaseHeap(): void;

/** _exit(code): ends the process and all its threads at once (no worker-thread joins). */
export function exitNow(code: number): never;
/** The FUSE ring slots (fuse-uring.cc), shared by the keeper's holders and sysbox-fs's servers: fd < 0 makes a new memfd arena, else maps the given one where it was made. */
export function uringArena(fd: number, payloadSize?: number, queues?: number, entries?: number, keptSets?: number, keptEntryBytes?: number, hostFiles?: number): { fd: number; base: number; payloadSize: number; queues: number; entries: number; kept: boolean };
/**
 * The arena's page record table (sysbox-fs kept-pages.ts, of the shape it was made with: an arena a
 * predecessor made may have another than this version's SHORT_TABLE)
 * and host file index (host-file-index.ts), as ArrayBuffers of this thread's; null if the arena has
 * none (an older sysbox-fs made it). The holders answer OPENs of unchanged host settings from them.
 */
export function uringKeptTable(base: number): { table: ArrayBuffer; sets: number; entryBytes: number; hostFiles: ArrayBuffer } | null;
/** Unlocks page record sets a dead locker left locked: holdersDead, a dead keeper's holders; else a dead predecessor's workers. */
export function uringKeptRepair(base: number, holdersDead: boolean): void;
/** OPENs of unchanged host settings the holders answered themselves since the arena was made (0 if it has no table). */
export function uringKeptAnswered(base: number): number;
/** Starts a thread per CPU queue owning that queue's io_uring (in the fd keeper; once per process). */
export function uringHold(fuseFd: number, base: number): void;
/** Binds the calling thread to CPU qid to serve that queue's slots; adopt: serve again what a predecessor was serving. */
export function uringServe(base: number, qid: number, adopt: boolean): number;
/**
 * Hands over reply (classic layout) for the last request, then waits for the next; its length, 0
 * after a second with none, or -errno. released gets the counted RELEASEs the holders answered themselves, for the caller to
 * uncount: [count, then per RELEASE nodeid low word, high word, fh].
 */
export function uringExchange(handle: number, reply: Buffer | null, request: Buffer, released?: Uint32Array): number;
/** Starts a write of notify (a FUSE notify) to fd on the ring server's own storer thread; uringStoreWait serves the queue until it is done. */
export function uringStoreBegin(handle: number, fd: number, notify: Buffer): void;
/** Hands reply for the side request last returned (null: none), then returns 0 once the store is done, or takes another request of the queue into request (its length), or -errno (ENOTCONN: the queue ended). */
export function uringStoreWait(handle: number, reply: Buffer | null, request: Buffer): number;
/** path read (up to maxBytes) from within process pid's network namespace (this thread only, restored). */
export function readInNetns(pid: number, path: string, maxBytes: number): Buffer;
/** One write(2) of data to path from within pid's network namespace (this thread only, restored). */
export function writeInNetns(pid: number, path: string, data: Buffer): void;
/** Directory entries ([name, isDir], no . and ..) of path as pid's network namespace shows them. */
export function listInNetns(pid: number, path: string): Array<[string, boolean]>;
/** The root of a new procfs or sysfs attached nowhere (O_CLOEXEC); reach it as /proc/self/fd/N. */
export function openPrivateMount(fstype: 'proc' | 'sysfs', readOnly: boolean): number;
/** Sets O_NONBLOCK on fd's open file description. */
export function setNonBlocking(fd: number): void;
/**
 * For a worker on a non-blocking /dev/fuse fd: writes reply (unless null), then reads the next
 * request into request (unless null), retrying for spinMicros, then sleeping in poll if block.
 * Returns the request's length, 0 if none was taken, or -errno if the connection failed (-ENODEV:
 * unmounted). A reply refused with ENOENT (caller interrupted) is dropped; other refusals throw.
 */
export function fuseExchange(fd: number, reply: Buffer | null, request: Buffer | null, spinMicros?: number, block?: boolean): number;

/**
 * fork + execve without waiting for the exec (child_process.spawn waits for it: a scheduler wait on
 * a loaded host): file runs in a session of its own with fds[i] as fd i (-1: /dev/null) and no other
 * fd; an exec failure goes to its fd 2 (exit 127). The caller reaps it with reapChild.
 */
export function spawnNoWait(file: string, args: string[], fds: number[]): number;
/** waitpid(WNOHANG): true once pid is reaped, or when it is not this process's child. */
export function reapChild(pid: number): boolean;
