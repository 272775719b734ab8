// Mounts into another process's mount namespace: either detached mounts (open_tree clones made
// here on the host) moved onto paths as that process sees them (its root and working directory),
// or a new procfs/sysfs (created from inside the process's pid and network namespaces, so it shows
// them) attached onto a directory given as an fd, with the clones moved onto names inside it.
// The fd form needs no path resolution in the target: runc names its mount targets
// /proc/self/fd/N, which only that process can resolve.
// sysbox-fs uses it to put its virtual files into a container and to emulate `mount -t proc`.
//
// setns(CLONE_NEWNS) is refused to multithreaded processes and setns(CLONE_NEWPID) only affects
// children, so the work runs in forked children; between fork and _exit they make raw syscalls
// only (every string is prepared before the fork), which is safe in a threaded parent.
//
// Keeps (clones of what the binds are about to cover, put back on top) are /proc/sys entries that
// belong to the process's namespaces. The kernel resolves such an entry by the namespaces of
// whoever looks it up (net, ipc, pid: the active one; user: the credentials'), so they are cloned
// by a child that has joined all of those, user namespace included; it shares our fd table and
// memory (clone with CLONE_FILES|CLONE_VM|CLONE_VFORK), so its clones are ours to move.
#include "args.h"
#include "errors.h"
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace {

struct Plan {
  int mntns = -1, netns = -1, ipcns = -1, pidns = -1, userns = -1, root = -1, cwd = -1;
  bool proc = false;
  std::string procType;
  int procTargetFd = -1;
  unsigned int procAttrs = 0;
  // fsconfig() calls for the data string ("hidepid=2,subset=pid"): key, value ("" for a flag).
  std::vector<std::pair<std::string, std::string>> procOptions;
  std::vector<int> fds;
  // Non-empty: this bind's source is a clone of that path (as the targets resolve), made before
  // any bind, so a file or directory about to be covered can be put back on top.
  std::vector<std::string> keeps;
  std::vector<std::string> targets;
  // Per bind: made read-only (with all below it) before it is moved.
  std::vector<char> readOnly;
  // Filled in by the keep cloner (shared memory); sized before any fork.
  std::vector<int> kept, keptErr;
  std::vector<char> keeperStack;
  int keepBase = AT_FDCWD;
};

// The keep cloner: joins the user namespace (the others are inherited), clones each keep.
int CloneKeeps(void* arg) {
  Plan& p = *static_cast<Plan*>(arg);
  int rc = p.userns >= 0 && setns(p.userns, CLONE_NEWUSER) < 0 ? errno : 0;
  for (size_t i = 0; i < p.keeps.size(); i++) {
    if (p.keeps[i].empty()) continue;
    if (rc != 0) {
      p.keptErr[i] = rc;
      continue;
    }
    p.kept[i] = static_cast<int>(syscall(SYS_open_tree, p.keepBase, p.keeps[i].c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE));
    if (p.kept[i] < 0) p.keptErr[i] = errno;
  }
  _exit(0);
}

bool HasKeeps(const Plan& p) {
  for (const auto& k : p.keeps) if (!k.empty()) return true;
  return false;
}

// Runs in the child, inside the namespaces; reports one int per step on the pipe.
void Work(Plan& p, int out) {
  int rc = 0;
  // The network and ipc namespaces too: /proc/sys/net/*, the ipc entries of /proc/sys/kernel and
  // sysfs resolve per namespace, and a bind made while looking through the host's would sit on
  // entries the process never sees.
  if (setns(p.netns, CLONE_NEWNET) < 0 || setns(p.ipcns, CLONE_NEWIPC) < 0 || setns(p.mntns, CLONE_NEWNS) < 0 || fchdir(p.root) < 0 || chroot(".") < 0 || fchdir(p.cwd) < 0) rc = errno;
  if (write(out, &rc, sizeof(rc)) < 0 || rc != 0) _exit(1);
  int base = AT_FDCWD;
  if (p.proc) {
    int fsfd = static_cast<int>(syscall(SYS_fsopen, p.procType.c_str(), FSOPEN_CLOEXEC));
    rc = fsfd < 0 ? errno : 0;
    for (size_t i = 0; rc == 0 && i < p.procOptions.size(); i++) {
      const auto& o = p.procOptions[i];
      long r = o.second.empty() ? syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_FLAG, o.first.c_str(), nullptr, 0)
                                : syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, o.first.c_str(), o.second.c_str(), 0);
      if (r < 0) rc = errno;
    }
    if (rc == 0 && syscall(SYS_fsconfig, fsfd, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) rc = errno;
    int mfd = -1;
    if (rc == 0) {
      mfd = static_cast<int>(syscall(SYS_fsmount, fsfd, FSMOUNT_CLOEXEC, p.procAttrs));
      if (mfd < 0) rc = errno;
    }
    if (rc == 0 && syscall(SYS_move_mount, mfd, "", p.procTargetFd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) rc = errno;
    if (write(out, &rc, sizeof(rc)) < 0 || rc != 0) _exit(1);
    base = mfd;  // the binds' targets are names inside the new mount
  }
  if (HasKeeps(p)) {
    p.keepBase = base;
    // The cloner's active pid namespace must be the process's (pid_max is per pid namespace).
    int err = setns(p.pidns, CLONE_NEWPID) < 0 ? errno : 0;
    pid_t c = err ? -1 : clone(CloneKeeps, p.keeperStack.data() + p.keeperStack.size(), CLONE_VM | CLONE_VFORK | CLONE_FILES | SIGCHLD, &p);
    if (!err && c < 0) err = errno;
    int st = 0;
    while (c > 0 && waitpid(c, &st, 0) < 0 && errno == EINTR) {}
    for (size_t i = 0; err && i < p.keeps.size(); i++) p.keptErr[i] = err;
  }
  for (size_t i = 0; i < p.fds.size(); i++) {
    int src = p.keeps[i].empty() ? p.fds[i] : p.kept[i];
    rc = src < 0 ? p.keptErr[i] : 0;
    if (rc == 0 && p.readOnly[i]) {
      // While still detached: once attached, the container could see it writable for a moment.
      struct mount_attr attr = {};
      attr.attr_set = MOUNT_ATTR_RDONLY;
      if (syscall(SYS_mount_setattr, src, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0) rc = errno;
    }
    if (rc == 0) rc = syscall(SYS_move_mount, src, "", base, p.targets[i].c_str(), MOVE_MOUNT_F_EMPTY_PATH) < 0 ? errno : 0;
    if (write(out, &rc, sizeof(rc)) < 0) _exit(1);
  }
  _exit(0);
}

int OpenNs(int pid, const char* what, int flags) {
  std::string path = "/proc/" + std::to_string(pid) + "/" + what;
  return open(path.c_str(), flags | O_CLOEXEC);
}

// MS_* flags of mount(2) → MOUNT_ATTR_* of fsmount(2).
unsigned int MountAttrs(unsigned long flags) {
  unsigned int a = 0;
  if (flags & MS_RDONLY) a |= MOUNT_ATTR_RDONLY;
  if (flags & MS_NOSUID) a |= MOUNT_ATTR_NOSUID;
  if (flags & MS_NODEV) a |= MOUNT_ATTR_NODEV;
  if (flags & MS_NOEXEC) a |= MOUNT_ATTR_NOEXEC;
  if (flags & MS_NODIRATIME) a |= MOUNT_ATTR_NODIRATIME;
  if (flags & MS_NOATIME) a |= MOUNT_ATTR_NOATIME;
  else if (flags & MS_STRICTATIME) a |= MOUNT_ATTR_STRICTATIME;
  return a;
}

}  // namespace

// mountInNs(pid, fs: {fstype: 'proc'|'sysfs', targetFd, flags, data} | null, binds: ({fd, target, readOnly?} | {keep, target, readOnly?})[]): number[]
// Returns one errno per step (0 = done): [enter, proc?, ...binds]; steps after a failed
// enter/proc are not attempted and not reported.
Napi::Value MountInNs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int pid = static_cast<int>(ArgInt(info, 0, "pid"));
  Plan p;
  if (info.Length() > 1 && info[1].IsObject()) {
    Napi::Object o = info[1].As<Napi::Object>();
    p.proc = true;
    p.procType = o.Get("fstype").As<Napi::String>();
    if (p.procType != "proc" && p.procType != "sysfs") throw Napi::TypeError::New(env, "fstype must be proc or sysfs");
    p.procTargetFd = o.Get("targetFd").As<Napi::Number>().Int32Value();
    p.procAttrs = MountAttrs(static_cast<unsigned long>(o.Get("flags").As<Napi::Number>().Int64Value()));
    std::string data = o.Get("data").IsString() ? std::string(o.Get("data").As<Napi::String>()) : "";
    size_t start = 0;
    while (start < data.size()) {
      size_t end = data.find(',', start);
      if (end == std::string::npos) end = data.size();
      std::string opt = data.substr(start, end - start);
      size_t eq = opt.find('=');
      if (!opt.empty()) p.procOptions.emplace_back(opt.substr(0, eq), eq == std::string::npos ? "" : opt.substr(eq + 1));
      start = end + 1;
    }
  }
  if (info.Length() > 2 && info[2].IsArray()) {
    Napi::Array binds = info[2].As<Napi::Array>();
    for (uint32_t i = 0; i < binds.Length(); i++) {
      Napi::Object b = binds.Get(i).As<Napi::Object>();
      bool keep = b.Get("keep").IsString();
      p.fds.push_back(keep ? -1 : b.Get("fd").As<Napi::Number>().Int32Value());
      p.keeps.push_back(keep ? std::string(b.Get("keep").As<Napi::String>()) : "");
      p.targets.push_back(b.Get("target").As<Napi::String>());
      p.readOnly.push_back(b.Get("readOnly").ToBoolean() ? 1 : 0);
    }
  }
  p.kept.assign(p.fds.size(), -1);
  p.keptErr.assign(p.fds.size(), 0);
  if (HasKeeps(p)) p.keeperStack.resize(64 * 1024);
  p.mntns = OpenNs(pid, "ns/mnt", O_RDONLY);
  p.netns = OpenNs(pid, "ns/net", O_RDONLY);
  p.ipcns = OpenNs(pid, "ns/ipc", O_RDONLY);
  // procfs shows the mounter's pid namespace (sysfs its network namespace, entered anyway).
  p.pidns = OpenNs(pid, "ns/pid", O_RDONLY);
  p.userns = OpenNs(pid, "ns/user", O_RDONLY);
  // Joining the user namespace we are in already is refused (and needless).
  struct stat mine, theirs;
  if (p.userns >= 0 && stat("/proc/self/ns/user", &mine) == 0 && fstat(p.userns, &theirs) == 0 && mine.st_ino == theirs.st_ino && mine.st_dev == theirs.st_dev) {
    close(p.userns);
    p.userns = -2;  // not needed; -1 stays "could not open"
  }
  p.root = OpenNs(pid, "root", O_PATH | O_DIRECTORY);
  p.cwd = OpenNs(pid, "cwd", O_PATH | O_DIRECTORY);
  int openErr = errno;
  auto closeAll = [&]() {
    for (int fd : {p.mntns, p.netns, p.ipcns, p.pidns, p.userns, p.root, p.cwd}) if (fd >= 0) close(fd);
  };
  if (p.mntns < 0 || p.netns < 0 || p.ipcns < 0 || p.pidns < 0 || p.userns == -1 || p.root < 0 || p.cwd < 0) {
    closeAll();
    throw SyscallError(env, "open /proc/PID/ns", openErr, std::to_string(pid));
  }
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0) {
    closeAll();
    throw SyscallError(env, "pipe2", errno);
  }
  // vfork: the parent (a large Node process) waits, and no page tables are copied (~8 ms for
  // 100 MB with fork). The child only makes syscalls and _exits.
  pid_t child = vfork();
  if (child == 0) {
    close(pipefd[0]);
    if (!p.proc || p.procType == "sysfs") Work(p, pipefd[1]);
    // A new pid namespace applies to children of setns() only, so procfs is mounted by a grandchild.
    if (setns(p.pidns, CLONE_NEWPID) < 0) {
      int rc = errno;
      if (write(pipefd[1], &rc, sizeof(rc)) < 0) _exit(1);
      _exit(1);
    }
    pid_t grandchild = vfork();
    if (grandchild == 0) Work(p, pipefd[1]);
    int st = 0;
    while (grandchild > 0 && waitpid(grandchild, &st, 0) < 0 && errno == EINTR) {}
    _exit(0);
  }
  int forkErr = errno;
  close(pipefd[1]);
  closeAll();
  if (child < 0) {
    close(pipefd[0]);
    throw SyscallError(env, "fork", forkErr);
  }
  std::vector<int> results;
  int rc;
  while (true) {
    ssize_t n = read(pipefd[0], &rc, sizeof(rc));
    if (n < 0 && errno == EINTR) continue;
    if (n != sizeof(rc)) break;
    results.push_back(rc);
  }
  close(pipefd[0]);
  int st = 0;
  while (waitpid(child, &st, 0) < 0 && errno == EINTR) {}
  if (results.empty()) throw SyscallError(env, "mountInNs", ECHILD, "helper reported nothing");
  Napi::Array out = Napi::Array::New(env, results.size());
  for (uint32_t i = 0; i < results.size(); i++) out.Set(i, Napi::Number::New(env, results[i]));
  return out;
}
