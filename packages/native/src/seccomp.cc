// Seccomp user-notification ioctls: receive a trapped syscall, answer it (an errno, a value, or
// "continue as the kernel decides"), check a notification is still live, and read a string
// argument out of the tracee's memory.
#include "args.h"
#include "errors.h"
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

// seccompNotifRecv(fd): { id, pid, nr, arch, args } | null — null when the tracee already went away.
Napi::Value SeccompNotifRecv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = static_cast<int>(ArgInt(info, 0, "fd"));
  seccomp_notif req = {};  // the kernel requires it zeroed
  if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
    if (errno == ENOENT || errno == EINTR) return env.Null();
    throw SyscallError(env, "ioctl(SECCOMP_IOCTL_NOTIF_RECV)", errno);
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("id", Napi::BigInt::New(env, static_cast<uint64_t>(req.id)));
  out.Set("pid", Napi::Number::New(env, req.pid));
  out.Set("nr", Napi::Number::New(env, req.data.nr));
  out.Set("arch", Napi::Number::New(env, req.data.arch));
  Napi::Array args = Napi::Array::New(env, 6);
  for (uint32_t i = 0; i < 6; i++) args.Set(i, Napi::BigInt::New(env, static_cast<uint64_t>(req.data.args[i])));
  out.Set("args", args);
  return out;
}

// seccompNotifRespond(fd, id, error, val, continue): boolean — false when the tracee is gone.
// error is a positive errno (0 for success); with continue the syscall runs as if untrapped.
Napi::Value SeccompNotifRespond(const Napi::CallbackInfo& info) {
  int fd = static_cast<int>(ArgInt(info, 0, "fd"));
  seccomp_notif_resp resp = {};
  resp.id = ArgU64(info, 1, "id");
  int error = static_cast<int>(ArgInt(info, 2, "error"));
  resp.error = error == 0 ? 0 : -error;
  resp.val = static_cast<int64_t>(ArgInt(info, 3, "val"));
  if (info.Length() > 4 && info[4].ToBoolean()) {
    resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    resp.error = 0;
    resp.val = 0;
  }
  if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0) {
    if (errno == ENOENT) return Napi::Boolean::New(info.Env(), false);
    throw SyscallError(info.Env(), "ioctl(SECCOMP_IOCTL_NOTIF_SEND)", errno);
  }
  return Napi::Boolean::New(info.Env(), true);
}

// seccompNotifIdValid(fd, id): boolean — whether the tracee still waits on this notification
// (checked after reading its memory, so a recycled pid cannot feed us another process's data).
Napi::Value SeccompNotifIdValid(const Napi::CallbackInfo& info) {
  int fd = static_cast<int>(ArgInt(info, 0, "fd"));
  __u64 id = ArgU64(info, 1, "id");
  return Napi::Boolean::New(info.Env(), ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0);
}

// readString(pid, addr, max): string | null — a NUL-terminated string from another process's
// memory, read page by page so a string ending near an unmapped page still reads; null if addr is 0.
Napi::Value ReadString(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int pid = static_cast<int>(ArgInt(info, 0, "pid"));
  uint64_t addr = ArgU64(info, 1, "addr");
  size_t max = static_cast<size_t>(ArgInt(info, 2, "max"));
  if (addr == 0) return env.Null();
  std::string out;
  char buf[4096];
  while (out.size() < max) {
    size_t room = 4096 - (addr % 4096);
    if (room > max - out.size()) room = max - out.size();
    iovec local = {buf, room};
    iovec remote = {reinterpret_cast<void*>(addr), room};
    ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (n <= 0) throw SyscallError(env, "process_vm_readv", n < 0 ? errno : EFAULT, std::to_string(pid));
    const char* nul = static_cast<const char*>(memchr(buf, 0, static_cast<size_t>(n)));
    if (nul) {
      out.append(buf, static_cast<size_t>(nul - buf));
      return Napi::String::New(env, out);
    }
    out.append(buf, static_cast<size_t>(n));
    addr += static_cast<uint64_t>(n);
  }
  throw SyscallError(env, "readString", ENAMETOOLONG, std::to_string(pid));
}
