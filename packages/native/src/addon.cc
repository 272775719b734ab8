// Entry point: exports the syscalls wrapped in the other files, plus the constants callers need.
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
Napi::Value PidfdGetfd(const Napi::CallbackInfo& info);
Napi::Value PollFds(const Napi::CallbackInfo& info);
Napi::Value UnixListen(const Napi::CallbackInfo& info);
Napi::Value AcceptFd(const Napi::CallbackInfo& info);
Napi::Value SeccompNotifRecv(const Napi::CallbackInfo& info);
Napi::Value SeccompNotifRespond(const Napi::CallbackInfo& info);
Napi::Value SeccompNotifIdValid(const Napi::CallbackInfo& info);
Napi::Value ReadString(const Napi::CallbackInfo& info);
Napi::Value MountInNs(const Napi::CallbackInfo& info);
Napi::Value ExitNow(const Napi::CallbackInfo& info);
Napi::Value OpenInRoot(const Napi::CallbackInfo& info);
Napi::Value SetNonBlocking(const Napi::CallbackInfo& info);
Napi::Value FuseExchange(const Napi::CallbackInfo& info);
Napi::Value ReadInNetns(const Napi::CallbackInfo& info);
Napi::Value WriteInNetns(const Napi::CallbackInfo& info);
Napi::Value ListInNetns(const Napi::CallbackInfo& info);
Napi::Value OpenPrivateMount(const Napi::CallbackInfo& info);
Napi::Value NamespaceOwner(const Napi::CallbackInfo& info);
Napi::Value SdNotify(const Napi::CallbackInfo& info);
Napi::Value Mkfifo(const Napi::CallbackInfo& info);
Napi::Value XattrSet(const Napi::CallbackInfo& info);
Napi::Value XattrGet(const Napi::CallbackInfo& info);
Napi::Value XattrList(const Napi::CallbackInfo& info);
Napi::Value XattrRemove(const Napi::CallbackInfo& info);
Napi::Value ReadMemory(const Napi::CallbackInfo& info);
Napi::Value WriteMemory(const Napi::CallbackInfo& info);
Napi::Value ListDir(const Napi::CallbackInfo& info);
Napi::Value MallocTrim(const Napi::CallbackInfo& info);
Napi::Value SpawnNoWait(const Napi::CallbackInfo& info);
Napi::Value ReapChild(const Napi::CallbackInfo& info);

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("createUserns", Napi::Function::New(env, CreateUserns));
  exports.Set("openTreeClone", Napi::Function::New(env, OpenTreeClone));
  exports.Set("setIdmap", Napi::Function::New(env, SetIdmap));
  exports.Set("moveMount", Napi::Function::New(env, MoveMount));
  exports.Set("mount", Napi::Function::New(env, Mount));
  exports.Set("mountAs", Napi::Function::New(env, MountAs));
  exports.Set("umount", Napi::Function::New(env, Umount));
  exports.Set("watchExit", Napi::Function::New(env, WatchExit));
  exports.Set("pidfdGetfd", Napi::Function::New(env, PidfdGetfd));
  exports.Set("pollFds", Napi::Function::New(env, PollFds));
  exports.Set("unixListen", Napi::Function::New(env, UnixListen));
  exports.Set("acceptFd", Napi::Function::New(env, AcceptFd));
  exports.Set("seccompNotifRecv", Napi::Function::New(env, SeccompNotifRecv));
  exports.Set("seccompNotifRespond", Napi::Function::New(env, SeccompNotifRespond));
  exports.Set("seccompNotifIdValid", Napi::Function::New(env, SeccompNotifIdValid));
  exports.Set("readString", Napi::Function::New(env, ReadString));
  exports.Set("mountInNs", Napi::Function::New(env, MountInNs));
  exports.Set("exitNow", Napi::Function::New(env, ExitNow));
  exports.Set("openInRoot", Napi::Function::New(env, OpenInRoot));
  exports.Set("setNonBlocking", Napi::Function::New(env, SetNonBlocking));
  exports.Set("fuseExchange", Napi::Function::New(env, FuseExchange));
  exports.Set("readInNetns", Napi::Function::New(env, ReadInNetns));
  exports.Set("writeInNetns", Napi::Function::New(env, WriteInNetns));
  exports.Set("listInNetns", Napi::Function::New(env, ListInNetns));
  exports.Set("openPrivateMount", Napi::Function::New(env, OpenPrivateMount));
  exports.Set("namespaceOwner", Napi::Function::New(env, NamespaceOwner));
  exports.Set("sdNotify", Napi::Function::New(env, SdNotify));
  exports.Set("mkfifo", Napi::Function::New(env, Mkfifo));
  exports.Set("xattrSet", Napi::Function::New(env, XattrSet));
  exports.Set("xattrGet", Napi::Function::New(env, XattrGet));
  exports.Set("xattrList", Napi::Function::New(env, XattrList));
  exports.Set("xattrRemove", Napi::Function::New(env, XattrRemove));
  exports.Set("readMemory", Napi::Function::New(env, ReadMemory));
  exports.Set("writeMemory", Napi::Function::New(env, WriteMemory));
  exports.Set("listDir", Napi::Function::New(env, ListDir));
  exports.Set("mallocTrim", Napi::Function::New(env, MallocTrim));
  exports.Set("spawnNoWait", Napi::Function::New(env, SpawnNoWait));
  exports.Set("reapChild", Napi::Function::New(env, ReapChild));
  Napi::Object c = Napi::Object::New(env);
  c.Set("MS_RDONLY", Napi::Number::New(env, MS_RDONLY));
  c.Set("MS_BIND", Napi::Number::New(env, MS_BIND));
  c.Set("MS_REC", Napi::Number::New(env, MS_REC));
  c.Set("MS_PRIVATE", Napi::Number::New(env, MS_PRIVATE));
  c.Set("MS_SLAVE", Napi::Number::New(env, MS_SLAVE));
  c.Set("MNT_DETACH", Napi::Number::New(env, MNT_DETACH));
  c.Set("MS_REMOUNT", Napi::Number::New(env, MS_REMOUNT));
  c.Set("MS_NOSUID", Napi::Number::New(env, MS_NOSUID));
  c.Set("MS_NODEV", Napi::Number::New(env, MS_NODEV));
  c.Set("MS_NOEXEC", Napi::Number::New(env, MS_NOEXEC));
  exports.Set("constants", c);
  return exports;
}

NODE_API_MODULE(sysbox_native, Init)
