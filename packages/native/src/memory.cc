// Gives the kernel back the heap memory glibc keeps after free(): V8 and gRPC free large buffers
// after a burst of containers, and glibc keeps those pages (in every thread's arena) until a
// trim, so a daemon's RSS would stay at its peak.
#include <napi.h>
#include <malloc.h>

// mallocTrim(): boolean — malloc_trim(0) over all arenas; true if memory was given back.
Napi::Value MallocTrim(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), malloc_trim(0) != 0);
}
