// What sysbox-fs needs to carry out a trapped *xattr call for a container process at host level
// (the kernel refuses trusted.* from any user namespace but the initial one): the xattr syscalls on
// an O_PATH fd found by openInRoot, and the tracee's memory to read the value from and write the
// result into.
#include "args.h"
#include "errors.h"
#include <string>
#include <sys/uio.h>
#include <sys/xattr.h>

// An O_PATH fd cannot be passed to f*xattr: its /proc/self/fd link reaches the same inode.
static std::string FdPath(const Napi::CallbackInfo& info) {
  return "/proc/self/fd/" + std::to_string(ArgInt(info, 0, "fd"));
}

static Napi::Buffer<char> BufferArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsBuffer()) throw Napi::TypeError::New(info.Env(), std::string("expected Buffer argument: ") + what);
  return info[i].As<Napi::Buffer<char>>();
}

// xattrSet(fd, name, value, flags)
Napi::Value XattrSet(const Napi::CallbackInfo& info) {
  std::string p = FdPath(info);
  std::string name = ArgStr(info, 1, "name");
  Napi::Buffer<char> value = BufferArg(info, 2, "value");
  int flags = static_cast<int>(ArgInt(info, 3, "flags"));
  if (setxattr(p.c_str(), name.c_str(), value.Data(), value.Length(), flags) < 0) throw SyscallError(info.Env(), "setxattr", errno, name);
  return info.Env().Undefined();
}

// xattrGet(fd, name, size): Buffer — size 0 asks only the length (returned as an empty Buffer's
// `length` property would lose it, so a Number is returned then).
Napi::Value XattrGet(const Napi::CallbackInfo& info) {
  std::string p = FdPath(info);
  std::string name = ArgStr(info, 1, "name");
  size_t size = static_cast<size_t>(ArgInt(info, 2, "size"));
  if (size == 0) {
    ssize_t n = getxattr(p.c_str(), name.c_str(), nullptr, 0);
    if (n < 0) throw SyscallError(info.Env(), "getxattr", errno, name);
    return Napi::Number::New(info.Env(), static_cast<double>(n));
  }
  std::string buf(size, '\0');
  ssize_t n = getxattr(p.c_str(), name.c_str(), buf.data(), size);
  if (n < 0) throw SyscallError(info.Env(), "getxattr", errno, name);
  return Napi::Buffer<char>::Copy(info.Env(), buf.data(), static_cast<size_t>(n));
}

// xattrList(fd): Buffer — the NUL-separated names, all of them (the caller filters).
Napi::Value XattrList(const Napi::CallbackInfo& info) {
  std::string p = FdPath(info);
  for (int attempt = 0; attempt < 4; attempt++) {
    ssize_t want = listxattr(p.c_str(), nullptr, 0);
    if (want < 0) throw SyscallError(info.Env(), "listxattr", errno);
    std::string buf(static_cast<size_t>(want) + 1, '\0');
    ssize_t n = listxattr(p.c_str(), buf.data(), buf.size());
    if (n >= 0) return Napi::Buffer<char>::Copy(info.Env(), buf.data(), static_cast<size_t>(n));
    if (errno != ERANGE) throw SyscallError(info.Env(), "listxattr", errno);
  }
  throw SyscallError(info.Env(), "listxattr", ERANGE);
}

// xattrRemove(fd, name)
Napi::Value XattrRemove(const Napi::CallbackInfo& info) {
  std::string p = FdPath(info);
  std::string name = ArgStr(info, 1, "name");
  if (removexattr(p.c_str(), name.c_str()) < 0) throw SyscallError(info.Env(), "removexattr", errno, name);
  return info.Env().Undefined();
}

// readMemory(pid, addr, length): Buffer — exactly length bytes of another process's memory.
Napi::Value ReadMemory(const Napi::CallbackInfo& info) {
  int pid = static_cast<int>(ArgInt(info, 0, "pid"));
  uint64_t addr = ArgU64(info, 1, "addr");
  size_t len = static_cast<size_t>(ArgInt(info, 2, "length"));
  std::string buf(len, '\0');
  if (len > 0) {
    iovec local = {buf.data(), len};
    iovec remote = {reinterpret_cast<void*>(addr), len};
    ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (n < 0 || static_cast<size_t>(n) != len) throw SyscallError(info.Env(), "process_vm_readv", n < 0 ? errno : EFAULT, std::to_string(pid));
  }
  return Napi::Buffer<char>::Copy(info.Env(), buf.data(), len);
}

// writeMemory(pid, addr, data)
Napi::Value WriteMemory(const Napi::CallbackInfo& info) {
  int pid = static_cast<int>(ArgInt(info, 0, "pid"));
  uint64_t addr = ArgU64(info, 1, "addr");
  Napi::Buffer<char> data = BufferArg(info, 2, "data");
  if (data.Length() > 0) {
    iovec local = {data.Data(), data.Length()};
    iovec remote = {reinterpret_cast<void*>(addr), data.Length()};
    ssize_t n = process_vm_writev(pid, &local, 1, &remote, 1, 0);
    if (n < 0 || static_cast<size_t>(n) != data.Length()) throw SyscallError(info.Env(), "process_vm_writev", n < 0 ? errno : EFAULT, std::to_string(pid));
  }
  return info.Env().Undefined();
}
