// Gives the kernel back memory a daemon keeps after a burst of containers. glibc keeps the pages of
// freed V8 and gRPC buffers (in every thread's arena) until a trim. V8 keeps its young generation
// at the size the burst grew it to (up to 2 x 16 MiB): a full GC (gc()) leaves it so, which left
// sysbox-mgr ~10 MiB over its baseline in some CI runs (issue 14's 10 % check); a critical memory
// pressure notification shrinks it back to 1 MiB and frees V8's pooled pages.
#include <napi.h>
#include <malloc.h>
#include <v8.h>

// mallocTrim(): boolean — malloc_trim(0) over all arenas; true if memory was given back.
Napi::Value MallocTrim(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), malloc_trim(0) != 0);
}

// releaseHeap(): a full, memory-reducing GC of the calling thread's V8 heap (main thread or
// worker), done before it returns.
Napi::Value ReleaseHeap(const Napi::CallbackInfo& info) {
  v8::Isolate::GetCurrent()->MemoryPressureNotification(v8::MemoryPressureLevel::kCritical);
  return info.Env().Undefined();
}
