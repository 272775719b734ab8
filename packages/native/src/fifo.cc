// Named pipes for the pre-started create's exchange (sysbox-runc create-spare.ts): Node's fs module
// cannot make one.
#include "args.h"
#include "errors.h"
#include <sys/stat.h>

// mkfifo(path, mode): void
Napi::Value Mkfifo(const Napi::CallbackInfo& info) {
  std::string path = ArgStr(info, 0, "path");
  mode_t mode = static_cast<mode_t>(ArgInt(info, 1, "mode"));
  if (mkfifo(path.c_str(), mode) < 0) throw SyscallError(info.Env(), "mkfifo", errno, path);
  return info.Env().Undefined();
}
