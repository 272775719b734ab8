// Turns a failed syscall into a JS Error carrying errno/code/syscall like Node's own fs errors,
// so callers can branch on err.code instead of parsing messages.
#pragma once
#include <napi.h>
#include <cerrno>
#include <cstring>
#include <string>

inline Napi::Error SyscallError(Napi::Env env, const char* syscall, int err, const std::string& detail = "") {
  std::string msg = std::string(syscall) + " failed: " + std::strerror(err);
  if (!detail.empty()) msg += " (" + detail + ")";
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("errno", Napi::Number::New(env, err));
  const char* name = strerrorname_np(err);
  e.Set("code", Napi::String::New(env, name ? name : "EUNKNOWN"));
  e.Set("syscall", Napi::String::New(env, syscall));
  return e;
}
