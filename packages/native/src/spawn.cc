// spawnNoWait(file, args, fds): pid — starts a program in a session of its own with fds[i] as its
// fd i (-1: /dev/null) and no other fd, without waiting for it to exec. child_process.spawn (like
// posix_spawn) blocks the caller until the child has exec'd, which on a loaded host is a wait for
// the scheduler: 4–6 ms measured at load 8 on sysbox-mgr's Register, for the rootfs view. Between
// fork and execve the child makes only async-signal-safe calls (everything is prepared before the
// fork); an exec failure is written to its fd 2 and it exits 127. The caller reaps it (reapChild).
//
// reapChild(pid): boolean — waitpid(WNOHANG): true once pid is reaped or is not our child.
#include "args.h"
#include "errors.h"
#include <csignal>
#include <fcntl.h>
#include <string>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace {

void WriteAll(int fd, const char* s, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w <= 0) return;
    s += w;
    n -= static_cast<size_t>(w);
  }
}

[[noreturn]] void RunChild(const char* file, char* const* argv, const std::vector<int>& fds, const std::string& failure) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; sig++) sigaction(sig, &dfl, nullptr);  // Node ignores SIGPIPE; exec keeps ignored ones
  setsid();
  const int n = static_cast<int>(fds.size());
  // Copies above the targets first, so that no target overwrites a source still to be placed.
  int moved[16];
  for (int i = 0; i < n; i++) moved[i] = fds[i] < 0 ? open("/dev/null", O_RDWR) : fcntl(fds[i], F_DUPFD, n);
  for (int i = 0; i < n; i++) {
    if (moved[i] < 0 || dup2(moved[i], i) < 0) _exit(126);
  }
  syscall(SYS_close_range, n, ~0U, 0);
  execve(file, argv, environ);
  WriteAll(2, failure.data(), failure.size());
  _exit(127);
}

}  // namespace

Napi::Value SpawnNoWait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string file = ArgStr(info, 0, "file");
  if (info.Length() < 3 || !info[1].IsArray() || !info[2].IsArray()) throw Napi::TypeError::New(env, "expected args and fds arrays");
  Napi::Array jsArgs = info[1].As<Napi::Array>(), jsFds = info[2].As<Napi::Array>();
  std::vector<std::string> args{file};
  for (uint32_t i = 0; i < jsArgs.Length(); i++) args.push_back(jsArgs.Get(i).As<Napi::String>());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<int> fds;
  for (uint32_t i = 0; i < jsFds.Length() && i < 16; i++) fds.push_back(jsFds.Get(i).As<Napi::Number>().Int32Value());
  const std::string failure = "exec " + file + " failed\n";
  pid_t pid = fork();
  if (pid < 0) throw SyscallError(env, "fork", errno, file);
  if (pid == 0) RunChild(file.c_str(), argv.data(), fds, failure);
  return Napi::Number::New(env, pid);
}

Napi::Value ReapChild(const Napi::CallbackInfo& info) {
  pid_t pid = static_cast<pid_t>(ArgInt(info, 0, "pid"));
  int status;
  pid_t r = waitpid(pid, &status, WNOHANG);
  return Napi::Boolean::New(info.Env(), r == pid || (r < 0 && errno == ECHILD));
}
