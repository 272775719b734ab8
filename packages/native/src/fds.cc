// File-descriptor plumbing Node lacks: copying an fd out of another process (pidfd_getfd, how a
// restarted sysbox-fs takes back the /dev/fuse and seccomp fds its keeper held), a FUSE worker's
// write-reply-then-read-next step, and a unix listener that receives an fd with SCM_RIGHTS (the OCI seccomp
// listener protocol runc speaks).
#include "args.h"
#include "errors.h"
#include <cstring>
#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>

// pidfdGetfd(pid, fd): number — a copy (O_CLOEXEC) of another process's fd.
Napi::Value PidfdGetfd(const Napi::CallbackInfo& info) {
  int pid = static_cast<int>(ArgInt(info, 0, "pid"));
  int fd = static_cast<int>(ArgInt(info, 1, "fd"));
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) throw SyscallError(info.Env(), "pidfd_open", errno, std::to_string(pid));
  int copy = static_cast<int>(syscall(SYS_pidfd_getfd, pidfd, fd, 0));
  int err = errno;
  close(pidfd);
  if (copy < 0) throw SyscallError(info.Env(), "pidfd_getfd", err, std::to_string(pid) + ":" + std::to_string(fd));
  return Napi::Number::New(info.Env(), copy);
}

// pollFds(fds, timeoutMs): [fd, revents][] — blocks the calling (worker) thread; EINTR → [].
Napi::Value PollFds(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) throw Napi::TypeError::New(env, "expected array argument: fds");
  Napi::Array arr = info[0].As<Napi::Array>();
  int timeout = static_cast<int>(ArgInt(info, 1, "timeoutMs"));
  std::vector<pollfd> pfds(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); i++) {
    pfds[i].fd = arr.Get(i).As<Napi::Number>().Int32Value();
    pfds[i].events = POLLIN;
    pfds[i].revents = 0;
  }
  int n = poll(pfds.data(), pfds.size(), timeout);
  Napi::Array out = Napi::Array::New(env);
  if (n < 0) {
    if (errno == EINTR) return out;
    throw SyscallError(env, "poll", errno);
  }
  uint32_t k = 0;
  for (const pollfd& p : pfds) {
    if (p.revents == 0) continue;
    Napi::Array pair = Napi::Array::New(env, 2);
    pair.Set(0u, Napi::Number::New(env, p.fd));
    pair.Set(1u, Napi::Number::New(env, p.revents));
    out.Set(k++, pair);
  }
  return out;
}

// unixListen(path): number — a listening stream socket (mode 0600) replacing any stale file.
Napi::Value UnixListen(const Napi::CallbackInfo& info) {
  std::string path = ArgStr(info, 0, "path");
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) throw Napi::Error::New(info.Env(), "socket path too long: " + path);
  path.copy(addr.sun_path, path.size());
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw SyscallError(info.Env(), "socket", errno);
  unlink(path.c_str());
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0 || chmod(path.c_str(), 0600) < 0 || listen(fd, 128) < 0) {
    int err = errno;
    close(fd);
    throw SyscallError(info.Env(), "bind/listen", err, path);
  }
  return Napi::Number::New(info.Env(), fd);
}

// acceptFd(listenFd): { fd, data } | null — accepts one connection, reads everything the peer
// sends until it closes, and returns the first fd passed with SCM_RIGHTS (-1 if none).
Napi::Value AcceptFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int lfd = static_cast<int>(ArgInt(info, 0, "listenFd"));
  int conn = accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
  if (conn < 0) {
    if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) return env.Null();
    throw SyscallError(env, "accept4", errno);
  }
  timeval tv = {2, 0};  // a peer that connects and says nothing must not stall the listener
  setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::string data;
  int passed = -1;
  std::vector<char> buf(1 << 16);
  for (;;) {
    char ctrl[CMSG_SPACE(sizeof(int) * 4)];
    iovec iov = {buf.data(), buf.size()};
    msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = ctrl;
    msg.msg_controllen = sizeof(ctrl);
    // runc and crun send the state and the fd in one sendmsg and keep the connection open until
    // their init has gone on: once the fd is here, take only what is queued. Waiting for their
    // close instead stalls an init whose next syscall is trapped (runc fchowns its stdio right
    // after the hand-over) until the receive timeout.
    ssize_t n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC | (passed >= 0 ? MSG_DONTWAIT : 0));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      int* fds = reinterpret_cast<int*>(CMSG_DATA(c));
      for (size_t i = 0; i < count; i++) {
        if (passed < 0) passed = fds[i];
        else close(fds[i]);
      }
    }
    data.append(buf.data(), static_cast<size_t>(n));
  }
  close(conn);
  Napi::Object out = Napi::Object::New(env);
  out.Set("fd", Napi::Number::New(env, passed));
  out.Set("data", Napi::String::New(env, data));
  return out;
}

// openInRoot(pid, path): number — an O_PATH fd of path as process pid sees it: relative paths
// from its cwd, absolute ones from its root, symlinks resolved inside that root (RESOLVE_IN_ROOT),
// and /proc/self/fd/N or /proc/thread-self/fd/N (how runc names mount targets) as its own fd N.
Napi::Value OpenInRoot(const Napi::CallbackInfo& info) {
  int pid = static_cast<int>(ArgInt(info, 0, "pid"));
  std::string path = ArgStr(info, 1, "path");
  // Optional third argument: true to open a trailing symlink itself (the l*xattr calls).
  bool nofollow = info.Length() > 2 && info[2].ToBoolean();
  std::string proc = "/proc/" + std::to_string(pid);
  for (const char* prefix : {"/proc/self/fd/", "/proc/thread-self/fd/"}) {
    if (path.rfind(prefix, 0) == 0) {
      std::string n = path.substr(strlen(prefix));
      if (!n.empty() && n.find_first_not_of("0123456789") == std::string::npos) {
        int fd = open((proc + "/fd/" + n).c_str(), O_PATH | O_CLOEXEC);
        if (fd < 0) throw SyscallError(info.Env(), "open", errno, path);
        return Napi::Number::New(info.Env(), fd);
      }
    }
  }
  bool absolute = !path.empty() && path[0] == '/';
  int dir = open((proc + (absolute ? "/root" : "/cwd")).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) throw SyscallError(info.Env(), "open", errno, proc);
  open_how how = {};
  how.flags = O_PATH | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0);
  how.resolve = RESOLVE_IN_ROOT;
  // "/" itself is the root dir: "." from it (openat2 refuses an empty name).
  const char* name = absolute ? (path.find_first_not_of('/') == std::string::npos ? "." : path.c_str() + 1) : path.c_str();
  int fd = static_cast<int>(syscall(SYS_openat2, dir, name, &how, sizeof(how)));
  int err = errno;
  close(dir);
  if (fd < 0) throw SyscallError(info.Env(), "openat2", err, path);
  return Napi::Number::New(info.Env(), fd);
}

// exitNow(code): never returns — _exit(2) at once. Node's process.exit() first joins worker
// threads; the FUSE worker sleeping in poll on /dev/fuse would wake for one more request, read it
// and die without answering it, leaving that reader hung forever. _exit ends every thread where it stands.
Napi::Value ExitNow(const Napi::CallbackInfo& info) {
  _exit(static_cast<int>(ArgInt(info, 0, "code")));
}

// setNonBlocking(fd): sets O_NONBLOCK on fd's open file description (shared by every copy of it).
Napi::Value SetNonBlocking(const Napi::CallbackInfo& info) {
  int fd = static_cast<int>(ArgInt(info, 0, "fd"));
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) throw SyscallError(info.Env(), "fcntl", errno);
  return info.Env().Undefined();
}

static int64_t MicrosSince(const timespec& start) {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (now.tv_sec - start.tv_sec) * 1000000 + (now.tv_nsec - start.tv_nsec) / 1000;
}

// fuseExchange(fd, reply, request, spinMicros, block): number — one call per FUSE request for a
// worker thread on a non-blocking /dev/fuse fd: writes reply (unless null), then reads the next
// request into request (unless null), retrying for spinMicros while none is queued, then, if block,
// sleeping in poll until one is. Saves a worker the separate poll and two trips through Node's fs
// layer per request. Returns the request's length; 0 if none was taken (reads skipped, spin over
// without block, or a signal); -errno if the connection failed (ENODEV: unmounted). A reply the
// kernel refuses with ENOENT (its caller was interrupted) is dropped, as FUSE servers do; any other
// refusal throws, after which nothing was read.
Napi::Value FuseExchange(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = static_cast<int>(ArgInt(info, 0, "fd"));
  if (info.Length() > 1 && info[1].IsBuffer()) {
    Napi::Buffer<uint8_t> reply = info[1].As<Napi::Buffer<uint8_t>>();
    if (write(fd, reply.Data(), reply.Length()) < 0 && errno != ENOENT) {
      if (errno == ENODEV) return Napi::Number::New(env, -ENODEV);
      throw SyscallError(env, "write", errno, "/dev/fuse");
    }
  }
  if (info.Length() < 3 || !info[2].IsBuffer()) return Napi::Number::New(env, 0);
  Napi::Buffer<uint8_t> request = info[2].As<Napi::Buffer<uint8_t>>();
  int64_t spin = info.Length() > 3 && info[3].IsNumber() ? ArgInt(info, 3, "spinMicros") : 0;
  bool block = info.Length() > 4 && info[4].ToBoolean().Value();
  timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    ssize_t n = read(fd, request.Data(), request.Length());
    if (n > 0) return Napi::Number::New(env, static_cast<double>(n));
    // 0: the kernel never sends an empty request; treat it like a lost connection.
    if (n == 0) return Napi::Number::New(env, -ENODEV);
    // ENOENT: the request was aborted between queueing and our read.
    if (errno == EINTR || errno == ENOENT) continue;
    if (errno != EAGAIN) return Napi::Number::New(env, -errno);
    if (spin > 0 && MicrosSince(start) < spin) continue;
    if (!block) return Napi::Number::New(env, 0);
    pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, -1) < 0) {
      if (errno == EINTR) return Napi::Number::New(env, 0);
      return Napi::Number::New(env, -errno);
    }
  }
}
