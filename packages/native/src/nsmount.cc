// Mounts into another process's mount namespace, as seen from its root and working directory:
// optionally a new procfs or sysfs (mounted from inside the process's pid or network namespace,
// so it shows that namespace), then detached mounts (open_tree clones made here on the host) moved on top.
// sysbox-fs uses it to put its virtual files into a container and to emulate `mount -t proc`.
//
// setns(CLONE_NEWNS) is refused to multithreaded processes and setns(CLONE_NEWPID) only affects
// children, so the work runs in forked children; between fork and _exit they make raw syscalls
// only (every string is prepared before the fork), which is safe in a threaded parent.
#include "args.h"
#include "errors.h"
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace {

struct Plan {
  int mntns = -1, netns = -1, pidns = -1, root = -1, cwd = -1;
  bool proc = false;
  std::string procType, procTarget, procData;
  unsigned long procFlags = 0;
  std::vector<int> fds;
  std::vector<std::string> targets;
};

// Runs in the child, inside the namespaces; reports one int per step on the pipe.
void Work(const Plan& p, int out) {
  int rc = 0;
  // The network namespace too: /proc/sys/net/* and sysfs resolve per network namespace, and a
  // bind made while looking through the host's would sit on entries the process never sees.
  if (setns(p.netns, CLONE_NEWNET) < 0 || setns(p.mntns, CLONE_NEWNS) < 0 || fchdir(p.root) < 0 || chroot(".") < 0 || fchdir(p.cwd) < 0) rc = errno;
  if (write(out, &rc, sizeof(rc)) < 0 || rc != 0) _exit(1);
  if (p.proc) {
    rc = mount(p.procType.c_str(), p.procTarget.c_str(), p.procType.c_str(), p.procFlags, p.procData.empty() ? nullptr : p.procData.c_str()) < 0 ? errno : 0;
    if (write(out, &rc, sizeof(rc)) < 0 || rc != 0) _exit(1);
  }
  for (size_t i = 0; i < p.fds.size(); i++) {
    rc = syscall(SYS_move_mount, p.fds[i], "", AT_FDCWD, p.targets[i].c_str(), MOVE_MOUNT_F_EMPTY_PATH) < 0 ? errno : 0;
    if (write(out, &rc, sizeof(rc)) < 0) _exit(1);
  }
  _exit(0);
}

int OpenNs(int pid, const char* what, int flags) {
  std::string path = "/proc/" + std::to_string(pid) + "/" + what;
  return open(path.c_str(), flags | O_CLOEXEC);
}

}  // namespace

// mountInNs(pid, fs: {fstype: 'proc'|'sysfs', target, flags, data} | null, binds: {fd, target}[]): number[]
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
    p.procTarget = o.Get("target").As<Napi::String>();
    p.procFlags = static_cast<unsigned long>(o.Get("flags").As<Napi::Number>().Int64Value());
    if (o.Get("data").IsString()) p.procData = o.Get("data").As<Napi::String>();
  }
  if (info.Length() > 2 && info[2].IsArray()) {
    Napi::Array binds = info[2].As<Napi::Array>();
    for (uint32_t i = 0; i < binds.Length(); i++) {
      Napi::Object b = binds.Get(i).As<Napi::Object>();
      p.fds.push_back(b.Get("fd").As<Napi::Number>().Int32Value());
      p.targets.push_back(b.Get("target").As<Napi::String>());
    }
  }
  p.mntns = OpenNs(pid, "ns/mnt", O_RDONLY);
  p.netns = OpenNs(pid, "ns/net", O_RDONLY);
  // procfs shows the mounter's pid namespace (sysfs its network namespace, entered anyway).
  if (p.proc && p.procType == "proc") p.pidns = OpenNs(pid, "ns/pid", O_RDONLY);
  p.root = OpenNs(pid, "root", O_PATH | O_DIRECTORY);
  p.cwd = OpenNs(pid, "cwd", O_PATH | O_DIRECTORY);
  int openErr = errno;
  auto closeAll = [&]() {
    for (int fd : {p.mntns, p.netns, p.pidns, p.root, p.cwd}) if (fd >= 0) close(fd);
  };
  if (p.mntns < 0 || p.netns < 0 || p.root < 0 || p.cwd < 0 || (p.proc && p.procType == "proc" && p.pidns < 0)) {
    closeAll();
    throw SyscallError(env, "open /proc/PID/ns", openErr, std::to_string(pid));
  }
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0) {
    closeAll();
    throw SyscallError(env, "pipe2", errno);
  }
  pid_t child = fork();
  if (child == 0) {
    close(pipefd[0]);
    if (!p.proc || p.procType == "sysfs") Work(p, pipefd[1]);
    // A new pid namespace applies to children of setns() only, so procfs is mounted by a grandchild.
    if (setns(p.pidns, CLONE_NEWPID) < 0) {
      int rc = errno;
      if (write(pipefd[1], &rc, sizeof(rc)) < 0) _exit(1);
      _exit(1);
    }
    pid_t grandchild = fork();
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
