// Entry point: exports the syscalls wrapped in userns.cc and mounts.cc, plus the constants callers need.
#include <napi.h>
#include <sys/mount.h>

Napi::Value CreateUserns(const Napi::CallbackInfo& info);
Napi::Value OpenTreeClone(const Napi::CallbackInfo& info);
Napi::Value SetIdmap(const Napi::CallbackInfo& info);
Napi::Value MoveMount(const Napi::CallbackInfo& info);
Napi::Value Mount(const Napi::CallbackInfo& info);
Napi::Value MountAs(const Napi::CallbackInfo& info);
Napi::Value Umount(const Napi::CallbackInfo& info);
Napi::Value WatchExit(const Napi::CallbackInfo& info);

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("createUserns", Napi::Function::New(env, CreateUserns));
  exports.Set("openTreeClone", Napi::Function::New(env, OpenTreeClone));
  exports.Set("setIdmap", Napi::Function::New(env, SetIdmap));
  exports.Set("moveMount", Napi::Function::New(env, MoveMount));
  exports.Set("mount", Napi::Function::New(env, Mount));
  exports.Set("mountAs", Napi::Function::New(env, MountAs));
  exports.Set("umount", Napi::Function::New(env, Umount));
  exports.Set("watchExit", Napi::Function::New(env, WatchExit));
  Napi::Object c = Napi::Object::New(env);
  c.Set("MS_RDONLY", Napi::Number::New(env, MS_RDONLY));
  c.Set("MS_BIND", Napi::Number::New(env, MS_BIND));
  c.Set("MS_REC", Napi::Number::New(env, MS_REC));
  c.Set("MS_PRIVATE", Napi::Number::New(env, MS_PRIVATE));
  c.Set("MS_SLAVE", Napi::Number::New(env, MS_SLAVE));
  c.Set("MNT_DETACH", Napi::Number::New(env, MNT_DETACH));
  exports.Set("constants", c);
  return exports;
}

NODE_API_MODULE(sysbox_native, Init)
