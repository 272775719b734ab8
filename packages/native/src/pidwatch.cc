// Calls back on the event loop when a process exits, through a pidfd polled by libuv. sysbox-mgr
// uses it to release a container the moment its init dies, so the runtime's delete has nothing
// left to do on the hot path.
#include "errors.h"
#include <sys/syscall.h>
#include <unistd.h>
#include <uv.h>

namespace {

struct Watch {
  uv_poll_t poll;
  int pidfd;
  Napi::FunctionReference cb;
};

void OnClosed(uv_handle_t* h) {
  Watch* w = static_cast<Watch*>(h->data);
  close(w->pidfd);
  delete w;
}

void OnReadable(uv_poll_t* p, int /*status*/, int /*events*/) {
  Watch* w = static_cast<Watch*>(p->data);
  uv_poll_stop(p);
  {
    Napi::Env env = w->cb.Env();
    Napi::HandleScope scope(env);
    try {
      w->cb.Call({});
    } catch (const Napi::Error& e) {
      e.ThrowAsJavaScriptException();
    }
  }
  uv_close(reinterpret_cast<uv_handle_t*>(p), OnClosed);
}

}  // namespace

// watchExit(pid: number, onExit: () => void): void — throws ESRCH if the process is already gone.
Napi::Value WatchExit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 2 || !info[0].IsNumber() || !info[1].IsFunction())
    throw Napi::TypeError::New(env, "watchExit(pid: number, onExit: () => void)");
  pid_t pid = info[0].As<Napi::Number>().Int32Value();
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) throw SyscallError(env, "pidfd_open", errno, std::to_string(pid));
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  Watch* w = new Watch();
  w->pidfd = pidfd;
  w->cb = Napi::Persistent(info[1].As<Napi::Function>());
  w->poll.data = w;
  int rc = uv_poll_init(loop, &w->poll, pidfd);
  if (rc == 0) rc = uv_poll_start(&w->poll, UV_READABLE, OnReadable);
  if (rc != 0) {
    close(pidfd);
    delete w;
    throw Napi::Error::New(env, std::string("uv_poll on pidfd failed: ") + uv_strerror(rc));
  }
  return env.Undefined();
}
