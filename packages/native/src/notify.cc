// sd_notify without libsystemd: one datagram to $NOTIFY_SOCKET. Node's dgram cannot send on
// AF_UNIX sockets, and spawning systemd-notify races its own exit (systemd may not be able to tell
// which unit the message came from), so the daemons send it themselves from the main pid.
#include "args.h"
#include "errors.h"
#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

// sdNotify(socketPath, message): void — '@' at the start names an abstract socket, as systemd does.
Napi::Value SdNotify(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string socketPath = ArgStr(info, 0, "socketPath");
  std::string message = ArgStr(info, 1, "message");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socketPath.empty() || socketPath.size() >= sizeof(addr.sun_path)) {
    throw SyscallError(env, "sd_notify", EINVAL, socketPath);
  }
  memcpy(addr.sun_path, socketPath.data(), socketPath.size());
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socketPath.size());
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw SyscallError(env, "socket", errno);
  ssize_t n = sendto(fd, message.data(), message.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr), len);
  int err = errno;
  close(fd);
  if (n < 0) throw SyscallError(env, "sendto", err, socketPath);
  return env.Undefined();
}
