// Argument checks shared by the addon's functions: a wrong type is a TypeError naming the argument.
#pragma once
#include <napi.h>
#include <string>
#include <vector>

inline std::string ArgStr(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsString())
    throw Napi::TypeError::New(info.Env(), std::string("expected string argument: ") + what);
  return info[i].As<Napi::String>();
}

inline std::vector<std::string> ArgStrings(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsArray())
    throw Napi::TypeError::New(info.Env(), std::string("expected array of strings argument: ") + what);
  Napi::Array arr = info[i].As<Napi::Array>();
  std::vector<std::string> out;
  for (uint32_t k = 0; k < arr.Length(); k++) {
    Napi::Value v = arr.Get(k);
    if (!v.IsString()) throw Napi::TypeError::New(info.Env(), std::string("expected array of strings argument: ") + what);
    out.push_back(v.As<Napi::String>());
  }
  return out;
}

inline int64_t ArgInt(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsNumber())
    throw Napi::TypeError::New(info.Env(), std::string("expected number argument: ") + what);
  return info[i].As<Napi::Number>().Int64Value();
}

inline uint64_t ArgU64(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() > i && info[i].IsBigInt()) {
    bool lossless = false;
    return info[i].As<Napi::BigInt>().Uint64Value(&lossless);
  }
  return static_cast<uint64_t>(ArgInt(info, i, what));
}
