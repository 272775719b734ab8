// Mount syscalls Node lacks: the new mount API for ID-mapped clones, plain mount/umount, and a
// mount performed with another fsuid (needed so an overlay over ID-mapped layers stays writable).
#include "args.h"
#include "errors.h"
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/securebits.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

// openTreeClone(path: string, recursive: boolean): number — a detached copy of the mount at path.
Napi::Value OpenTreeClone(const Napi::CallbackInfo& info) {
  std::string path = ArgStr(info, 0, "path");
  bool recursive = info.Length() > 1 && info[1].ToBoolean();
  unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
  int fd = static_cast<int>(syscall(SYS_open_tree, AT_FDCWD, path.c_str(), flags));
  if (fd < 0) throw SyscallError(info.Env(), "open_tree", errno, path);
  return Napi::Number::New(info.Env(), fd);
}

// setIdmap(mountFd: number, usernsFd: number): void — makes the detached mount ID-mapped and
// private, so it never joins the source's shared peer group.
Napi::Value SetIdmap(const Napi::CallbackInfo& info) {
  int mnt_fd = static_cast<int>(ArgInt(info, 0, "mountFd"));
  int userns_fd = static_cast<int>(ArgInt(info, 1, "usernsFd"));
  struct mount_attr attr = {};
  attr.attr_set = MOUNT_ATTR_IDMAP;
  attr.userns_fd = static_cast<__u64>(userns_fd);
  attr.propagation = MS_PRIVATE;
  if (syscall(SYS_mount_setattr, mnt_fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
    throw SyscallError(info.Env(), "mount_setattr", errno);
  return info.Env().Undefined();
}

// moveMount(mountFd: number, target: string): void — attaches a detached mount at target.
Napi::Value MoveMount(const Napi::CallbackInfo& info) {
  int mnt_fd = static_cast<int>(ArgInt(info, 0, "mountFd"));
  std::string target = ArgStr(info, 1, "target");
  if (syscall(SYS_move_mount, mnt_fd, "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) < 0)
    throw SyscallError(info.Env(), "move_mount", errno, target);
  return info.Env().Undefined();
}

// mount(source, target, fstype, flags, data): void
Napi::Value Mount(const Napi::CallbackInfo& info) {
  std::string source = ArgStr(info, 0, "source"), target = ArgStr(info, 1, "target");
  std::string fstype = ArgStr(info, 2, "fstype");
  unsigned long flags = static_cast<unsigned long>(ArgInt(info, 3, "flags"));
  std::string data = info.Length() > 4 && info[4].IsString() ? info[4].As<Napi::String>().Utf8Value() : "";
  if (mount(source.c_str(), target.c_str(), fstype.empty() ? nullptr : fstype.c_str(), flags,
            data.empty() ? nullptr : data.c_str()) < 0)
    throw SyscallError(info.Env(), "mount", errno, target);
  return info.Env().Undefined();
}

// mountAs(fsuid, fsgid, source, target, fstype, flags, data): void — mount(2) with the filesystem
// credentials of another id on this thread only, restored before returning. SECBIT_NO_SETUID_FIXUP
// keeps the capabilities that changing fsuid would otherwise drop.
Napi::Value MountAs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uid_t fsuid = static_cast<uid_t>(ArgInt(info, 0, "fsuid"));
  gid_t fsgid = static_cast<gid_t>(ArgInt(info, 1, "fsgid"));
  std::string source = ArgStr(info, 2, "source"), target = ArgStr(info, 3, "target");
  std::string fstype = ArgStr(info, 4, "fstype");
  unsigned long flags = static_cast<unsigned long>(ArgInt(info, 5, "flags"));
  std::string data = ArgStr(info, 6, "data");

  int old_bits = prctl(PR_GET_SECUREBITS);
  if (old_bits < 0) throw SyscallError(env, "prctl(PR_GET_SECUREBITS)", errno);
  if (prctl(PR_SET_SECUREBITS, old_bits | SECBIT_NO_SETUID_FIXUP) < 0)
    throw SyscallError(env, "prctl(PR_SET_SECUREBITS)", errno);
  uid_t old_uid = static_cast<uid_t>(setfsuid(fsuid));
  gid_t old_gid = static_cast<gid_t>(setfsgid(fsgid));
  int rc = mount(source.c_str(), target.c_str(), fstype.c_str(), flags, data.c_str());
  int err = errno;
  setfsgid(old_gid);
  setfsuid(old_uid);
  prctl(PR_SET_SECUREBITS, old_bits);
  if (rc < 0) throw SyscallError(env, "mount", err, target);
  return env.Undefined();
}

// umount(target: string, flags: number): void
Napi::Value Umount(const Napi::CallbackInfo& info) {
  std::string target = ArgStr(info, 0, "target");
  int flags = static_cast<int>(ArgInt(info, 1, "flags"));
  if (umount2(target.c_str(), flags) < 0) throw SyscallError(info.Env(), "umount2", errno, target);
  return info.Env().Undefined();
}

namespace {

// The unmounts run on a libuv pool thread: the one that drops an overlay's last reference makes the
// kernel flush its upper file system on that thread's way back from the syscall (>100 ms seen under
// load), which must not hold the event loop; and a thread costs no fork and exec of umount(8).
class UmountWorker : public Napi::AsyncWorker {
 public:
  UmountWorker(Napi::Env env, std::vector<std::string> targets, int flags)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), targets_(std::move(targets)), flags_(flags) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    for (const std::string& t : targets_) {
      // Not mounted (any more), or gone: nothing to do for that one.
      if (umount2(t.c_str(), flags_) < 0 && errno != EINVAL && errno != ENOENT && err_ == 0) {
        err_ = errno;
        failed_ = t;
      }
    }
  }
  void OnOK() override {
    if (err_ == 0) deferred_.Resolve(Env().Undefined());
    else deferred_.Reject(SyscallError(Env(), "umount2", err_, failed_).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::vector<std::string> targets_;
  int flags_;
  int err_ = 0;
  std::string failed_;
};

}  // namespace

// umountAll(targets: string[], flags: number): Promise<void> — each in order, off the event loop;
// rejects with the first failure other than EINVAL/ENOENT after trying them all.
Napi::Value UmountAll(const Napi::CallbackInfo& info) {
  auto* w = new UmountWorker(info.Env(), ArgStrings(info, 0, "targets"), static_cast<int>(ArgInt(info, 1, "flags")));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}
