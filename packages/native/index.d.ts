/** Error thrown by a failed syscall: errno and code as in Node's fs errors. */
export interface SyscallError extends Error {
  errno: number;
  code: string;
  syscall: string;
}

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

export const constants: {
  MS_RDONLY: number;
  MS_BIND: number;
  MS_REC: number;
  MS_PRIVATE: number;
  MS_SLAVE: number;
  MNT_DETACH: number;
};

/** Calls onExit on the event loop once the process exits (pidfd + libuv poll). Throws ESRCH if it is gone. */
export function watchExit(pid: number, onExit: () => void): void;
