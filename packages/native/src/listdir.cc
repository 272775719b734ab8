// A directory's entries with their modes in one call, for sysbox-fs's pass-through directories:
// a walk of /sys/kernel lists ~8000 entries, and an fs.lstatSync per entry (a Stats object each)
// was most of that walk's CPU.
#include "args.h"
#include "errors.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cstring>

// listDir(path): [name, mode, target, name, mode, target, ...] with lstat's st_mode and, for a
// symlink, its target (else null). Entries gone between readdir and lstat are left out; . and ..
// are never listed.
Napi::Value ListDir(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ArgStr(info, 0, "path");
  int dfd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) throw SyscallError(env, "open", errno, path);
  DIR* d = fdopendir(dfd);
  if (!d) {
    int err = errno;
    close(dfd);
    throw SyscallError(env, "fdopendir", err, path);
  }
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  char target[4096];
  for (;;) {
    errno = 0;
    struct dirent* e = readdir(d);
    if (!e) {
      if (errno != 0) {
        int err = errno;
        closedir(d);
        throw SyscallError(env, "readdir", err, path);
      }
      break;
    }
    if (e->d_name[0] == '.' && (e->d_name[1] == 0 || (e->d_name[1] == '.' && e->d_name[2] == 0))) continue;
    struct stat st;
    if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) continue;
    out.Set(n++, Napi::String::New(env, e->d_name));
    out.Set(n++, Napi::Number::New(env, st.st_mode));
    if (S_ISLNK(st.st_mode)) {
      ssize_t len = readlinkat(dirfd(d), e->d_name, target, sizeof(target));
      out.Set(n++, len >= 0 ? Napi::Value(Napi::String::New(env, target, static_cast<size_t>(len))) : env.Null());
    } else {
      out.Set(n++, env.Null());
    }
  }
  closedir(d);
  return out;
}
