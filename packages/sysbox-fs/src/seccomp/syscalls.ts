// The trapped syscalls by number, per architecture (arm64 has no chown/lchown: only the *at form).
export type TrappedCall =
  | 'mount' | 'umount2' | 'mount_setattr'
  | 'chown' | 'fchown' | 'lchown' | 'fchownat'
  | 'setxattr' | 'lsetxattr' | 'fsetxattr'
  | 'getxattr' | 'lgetxattr' | 'fgetxattr'
  | 'removexattr' | 'lremovexattr' | 'fremovexattr'
  | 'listxattr' | 'llistxattr' | 'flistxattr';

const X64: Record<number, TrappedCall> = {
  165: 'mount', 166: 'umount2', 442: 'mount_setattr',
  92: 'chown', 93: 'fchown', 94: 'lchown', 260: 'fchownat',
  188: 'setxattr', 189: 'lsetxattr', 190: 'fsetxattr',
  191: 'getxattr', 192: 'lgetxattr', 193: 'fgetxattr',
  194: 'listxattr', 195: 'llistxattr', 196: 'flistxattr',
  197: 'removexattr', 198: 'lremovexattr', 199: 'fremovexattr',
};

const ARM64: Record<number, TrappedCall> = {
  40: 'mount', 39: 'umount2', 442: 'mount_setattr',
  55: 'fchown', 54: 'fchownat',
  5: 'setxattr', 6: 'lsetxattr', 7: 'fsetxattr',
  8: 'getxattr', 9: 'lgetxattr', 10: 'fgetxattr',
  11: 'listxattr', 12: 'llistxattr', 13: 'flistxattr',
  14: 'removexattr', 15: 'lremovexattr', 16: 'fremovexattr',
};

const TABLE = process.arch === 'arm64' ? ARM64 : X64;

export function trappedCall(nr: number): TrappedCall | undefined {
  return TABLE[nr];
}
