// What the rootfs view server (sysbox-mgr's host-side view of a shifted rootfs) needs beyond Node's
// fs module: acting as the container's root while keeping host root's capabilities, a new root,
// and mknod.
#include "args.h"
#include "errors.h"
#include <linux/securebits.h>
#include <sched.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

// setFsIdsKeepCaps(uid, gid): void — fsuid/fsgid of the calling thread, for good. With
// SECBIT_NO_SETUID_FIXUP the capabilities a non-zero fsuid would drop are kept, so files are created
// as uid:gid and any owner can still be set afterwards. Node's *Sync fs calls run on this thread.
Napi::Value SetFsIdsKeepCaps(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uid_t uid = static_cast<uid_t>(ArgInt(info, 0, "uid"));
  gid_t gid = static_cast<gid_t>(ArgInt(info, 1, "gid"));
  int bits = prctl(PR_GET_SECUREBITS);
  if (bits < 0) throw SyscallError(env, "prctl(PR_GET_SECUREBITS)", errno);
  if (prctl(PR_SET_SECUREBITS, bits | SECBIT_NO_SETUID_FIXUP) < 0) throw SyscallError(env, "prctl(PR_SET_SECUREBITS)", errno);
  setfsuid(uid);
  setfsgid(gid);
  if (static_cast<uid_t>(setfsuid(static_cast<uid_t>(-1))) != uid) throw SyscallError(env, "setfsuid", EPERM);
  if (static_cast<gid_t>(setfsgid(static_cast<gid_t>(-1))) != gid) throw SyscallError(env, "setfsgid", EPERM);
  return env.Undefined();
}

// mknod(path, mode, rdev): void — rdev as the kernel's new_encode_dev value FUSE passes on.
Napi::Value Mknod(const Napi::CallbackInfo& info) {
  std::string path = ArgStr(info, 0, "path");
  mode_t mode = static_cast<mode_t>(ArgInt(info, 1, "mode"));
  unsigned rdev = static_cast<unsigned>(ArgInt(info, 2, "rdev"));
  dev_t dev = makedev((rdev & 0xfff00) >> 8, (rdev & 0xff) | ((rdev >> 12) & 0xfff00));
  if (mknod(path.c_str(), mode, dev) < 0) throw SyscallError(info.Env(), "mknod", errno, path);
  return info.Env().Undefined();
}

// pivotRootHere(path): void — makes path (a mount point) this mount namespace's root and detaches
// the old root with every mount under it (runc's pivot_root(".", ".") trick: no put_old dir).
// Only in a private mount namespace of our own.
Napi::Value PivotRootHere(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ArgStr(info, 0, "path");
  if (chdir(path.c_str()) < 0) throw SyscallError(env, "chdir", errno, path);
  if (syscall(SYS_pivot_root, ".", ".") < 0) throw SyscallError(env, "pivot_root", errno, path);
  if (umount2(".", MNT_DETACH) < 0) throw SyscallError(env, "umount2", errno, "old root");
  if (chdir("/") < 0) throw SyscallError(env, "chdir", errno, "/");
  return env.Undefined();
}

// unshareMountNs(): void — a private mount namespace for the calling thread alone (CLONE_NEWNS
// implies CLONE_FS, which a thread may unshare even in a multithreaded process), with every mount
// made private so nothing done in it propagates back. A spare rootfs view, already started, takes
// its container this way instead of being started anew under unshare(1).
Napi::Value UnshareMountNs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (unshare(CLONE_NEWNS) < 0) throw SyscallError(env, "unshare", errno, "CLONE_NEWNS");
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) throw SyscallError(env, "mount", errno, "/ (make-rprivate)");
  return env.Undefined();
}
