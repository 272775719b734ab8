// File access as seen from another process's network namespace, for /proc/sys/net entries that
// only exist per namespace (net.ipv4.neigh.<device>.*). setns(CLONE_NEWNET) moves only the calling
// thread, so a FUSE worker can step into the caller's namespace for one open/read/write/readdir and
// step back, at the cost of a few syscalls instead of a fork. The thread returns to the process's
// own namespace before the function does; if it cannot, the process aborts rather than go on
// serving the host from inside a container's namespace.
// Also: a procfs or sysfs instance of our own, not attached anywhere, so walks of /proc/sys or
// /sys/kernel never meet what the host mounted below them (binfmt_misc, debugfs, autofs triggers).
#include "args.h"
#include "errors.h"
#include <dirent.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

namespace {

int HomeNetns() {
  static int fd = -1;
  static std::once_flag once;
  // /proc/self is the main thread, which never leaves the host's namespace.
  std::call_once(once, [] { fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC); });
  return fd;
}

// Runs op() inside pid's network namespace; throws if it cannot get there, else returns op's errno.
template <typename Op>
int InNetns(Napi::Env env, int pid, Op op) {
  int home = HomeNetns();
  if (home < 0) throw SyscallError(env, "open", EBADF, "/proc/self/ns/net");
  std::string nsPath = "/proc/" + std::to_string(pid) + "/ns/net";
  int ns = open(nsPath.c_str(), O_RDONLY | O_CLOEXEC);
  if (ns < 0) throw SyscallError(env, "open", errno, nsPath);
  if (setns(ns, CLONE_NEWNET) < 0) {
    int err = errno;
    close(ns);
    throw SyscallError(env, "setns", err, nsPath);
  }
  close(ns);
  int rc = op();
  if (setns(home, CLONE_NEWNET) < 0) abort();
  return rc;
}

}  // namespace

// readInNetns(pid, path, maxBytes): Buffer
Napi::Value ReadInNetns(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int pid = static_cast<int>(ArgInt(info, 0, "pid"));
  std::string path = ArgStr(info, 1, "path");
  size_t max = static_cast<size_t>(ArgInt(info, 2, "maxBytes"));
  std::vector<char> buf(max);
  size_t got = 0;
  int rc = InNetns(env, pid, [&]() {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    int err = 0;
    while (got < max) {
      ssize_t n = read(fd, buf.data() + got, max - got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) err = errno;
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    close(fd);
    return err;
  });
  if (rc != 0) throw SyscallError(env, "read in network namespace", rc, path);
  return Napi::Buffer<char>::Copy(env, buf.data(), got);
}

// writeInNetns(pid, path, data): void (one write(2), as `echo > file` makes)
Napi::Value WriteInNetns(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int pid = static_cast<int>(ArgInt(info, 0, "pid"));
  std::string path = ArgStr(info, 1, "path");
  if (info.Length() < 3 || !info[2].IsBuffer()) throw Napi::TypeError::New(env, "expected Buffer argument: data");
  Napi::Buffer<char> data = info[2].As<Napi::Buffer<char>>();
  int rc = InNetns(env, pid, [&]() {
    int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    ssize_t n;
    do n = write(fd, data.Data(), data.Length());
    while (n < 0 && errno == EINTR);
    int err = n < 0 ? errno : 0;
    close(fd);
    return err;
  });
  if (rc != 0) throw SyscallError(env, "write in network namespace", rc, path);
  return env.Undefined();
}

// listInNetns(pid, path): Array<[name, isDir]> (without . and ..)
Napi::Value ListInNetns(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int pid = static_cast<int>(ArgInt(info, 0, "pid"));
  std::string path = ArgStr(info, 1, "path");
  std::vector<std::pair<std::string, bool>> entries;
  int rc = InNetns(env, pid, [&]() {
    DIR* d = opendir(path.c_str());
    if (!d) return errno;
    errno = 0;
    while (struct dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") entries.emplace_back(name, e->d_type == DT_DIR);
    }
    int err = errno;
    closedir(d);
    return err;
  });
  if (rc != 0) throw SyscallError(env, "readdir in network namespace", rc, path);
  Napi::Array out = Napi::Array::New(env, entries.size());
  for (uint32_t i = 0; i < entries.size(); i++) {
    Napi::Array pair = Napi::Array::New(env, 2);
    pair.Set(0u, Napi::String::New(env, entries[i].first));
    pair.Set(1u, Napi::Boolean::New(env, entries[i].second));
    out.Set(i, pair);
  }
  return out;
}

// openPrivateMount(fstype: 'proc' | 'sysfs', readOnly: boolean): number, the root of a new mount
// attached nowhere (O_CLOEXEC)
Napi::Value OpenPrivateMount(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string type = ArgStr(info, 0, "fstype");
  bool readOnly = info.Length() > 1 && info[1].ToBoolean().Value();
  if (type != "proc" && type != "sysfs") throw Napi::TypeError::New(env, "fstype must be proc or sysfs");
  int fsfd = static_cast<int>(syscall(SYS_fsopen, type.c_str(), FSOPEN_CLOEXEC));
  if (fsfd < 0) throw SyscallError(env, "fsopen", errno, type);
  if (syscall(SYS_fsconfig, fsfd, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) {
    int err = errno;
    close(fsfd);
    throw SyscallError(env, "fsconfig", err, type);
  }
  int mfd = static_cast<int>(syscall(SYS_fsmount, fsfd, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC | (readOnly ? MOUNT_ATTR_RDONLY : 0)));
  int err = errno;
  close(fsfd);
  if (mfd < 0) throw SyscallError(env, "fsmount", err, type);
  return Napi::Number::New(env, mfd);
}
