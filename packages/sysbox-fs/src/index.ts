// Public surface of sysbox-fs' FUSE layer (not yet wired into sysbox-runc).
export { FuseSession, type SessionOptions } from './fuse/session.js';
export { dispatch, DEFAULT_DISPATCH, type DispatchOptions } from './fuse/dispatch.js';
export { StaticTree, dir, file, ROOT_INODE, type Caller, type FileTree, type Inode, type VirtualDir, type VirtualFile, type VirtualNode } from './tree.js';
export type { CreateTree } from './fuse/worker-config.js';
