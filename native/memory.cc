// Block-aligned memory for O_DIRECT. Node allocates Buffers with malloc-grade alignment,
// which O_DIRECT on ext4/xfs rejects with EINVAL; these come from posix_memalign and are
// freed by the Buffer's finalizer.
//
// Blocks of the slab size the JavaScript side carves IO buffers from go back to a small
// cache instead: a fresh 1 MiB posix_memalign is an mmap whose 256 pages fault in on the
// memset and are unmapped again on free, which cost a sequential 128 KiB WRITE more of the
// event loop's time than its own IO submission.
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "sys.h"

namespace gsys {

namespace {

constexpr int64_t kMaxAlignment = int64_t{1} << 30;

// The size of the slabs src/sys/memory.ts carves from, aligned to at most a page; 32 of
// them (32 MiB) are kept for reuse. Finalizers of several threads' envs may run at once.
constexpr size_t kCachedBytes = 1024 * 1024;
constexpr size_t kCachedAlignment = 4096;
constexpr size_t kCacheLimit = 32;
std::mutex cache_mutex;
std::vector<void*> cache;

void* TakeCached() {
  std::lock_guard<std::mutex> lock(cache_mutex);
  if (cache.empty()) return nullptr;
  void* memory = cache.back();
  cache.pop_back();
  return memory;
}

void FreeAligned(napi_env env, void* data, void* hint) {
  size_t bytes = reinterpret_cast<uintptr_t>(hint);
  bool kept = false;
  if (bytes == kCachedBytes) {
    std::lock_guard<std::mutex> lock(cache_mutex);
    if (cache.size() < kCacheLimit) {
      cache.push_back(data);
      kept = true;
    }
  }
  if (!kept) std::free(data);
  int64_t change;
  napi_adjust_external_memory(env, -static_cast<int64_t>(bytes), &change);
}

}  // namespace

// allocAligned(size, alignment) → Buffer (zero-filled, synchronous: no system call blocks)
napi_value AllocAligned(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int64_t size, alignment;
  if (!ReadArgs(env, info, 2, argv) || !ArgInt64(env, argv[0], "size", &size) ||
      !ArgInt64(env, argv[1], "alignment", &alignment)) {
    return nullptr;
  }
  if (size < 0 || static_cast<uint64_t>(size) > SIZE_MAX / 2) {
    return Fail(env, "ERR_OUT_OF_RANGE", "The \"size\" argument is out of range");
  }
  if (alignment <= 0 || alignment > kMaxAlignment || (alignment & (alignment - 1)) != 0) {
    return Fail(env, "ERR_OUT_OF_RANGE", "The \"alignment\" argument must be a power of two up to 2^30");
  }
  size_t align = static_cast<size_t>(alignment) < sizeof(void*) ? sizeof(void*) : static_cast<size_t>(alignment);
  size_t bytes = static_cast<size_t>(size);
  void* memory = nullptr;
  int rc = 0;
  // Cached blocks are kCachedAlignment-aligned, which covers every smaller power of two.
  bool cacheable = bytes == kCachedBytes && align <= kCachedAlignment;
  if (cacheable) {
    memory = TakeCached();
    align = kCachedAlignment;
  }
  // One byte at least: posix_memalign(…, 0) may hand back NULL, which is not a usable buffer.
  if (memory == nullptr) rc = posix_memalign(&memory, align, bytes == 0 ? 1 : bytes);
  if (rc != 0) {
    napi_throw_range_error(env, "ERR_MEMORY_ALLOCATION_FAILED", "posix_memalign failed: out of memory");
    return nullptr;
  }
  std::memset(memory, 0, bytes);
  napi_value buffer;
  napi_status status = napi_create_external_buffer(env, bytes, memory, FreeAligned,
                                                   reinterpret_cast<void*>(static_cast<uintptr_t>(bytes)), &buffer);
  if (status != napi_ok) {
    std::free(memory);
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending) napi_throw_error(env, "ERR_SYS_EXTERNAL_BUFFER", "could not create an external buffer");
    return nullptr;
  }
  int64_t change;
  napi_adjust_external_memory(env, static_cast<int64_t>(bytes), &change);
  return buffer;
}

// misalignment(view, alignment) → bytes from the view's first byte to the next multiple of
// `alignment` (0 when it starts on one). src/sys/memory.ts carves O_DIRECT slabs out of
// memory V8 allocated and frees itself, instead of posix_memalign blocks whose release
// waits for a finalizer.
napi_value Misalignment(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  void* data;
  size_t length;
  int64_t alignment;
  if (!ReadArgs(env, info, 2, argv) || !ArgBytes(env, argv[0], "view", &data, &length) ||
      !ArgInt64(env, argv[1], "alignment", &alignment)) {
    return nullptr;
  }
  if (alignment <= 0 || alignment > kMaxAlignment || (alignment & (alignment - 1)) != 0) {
    return Fail(env, "ERR_OUT_OF_RANGE", "The \"alignment\" argument must be a power of two up to 2^30");
  }
  auto address = reinterpret_cast<uintptr_t>(data);
  auto align = static_cast<uintptr_t>(alignment);
  napi_value result;
  napi_create_int64(env, static_cast<int64_t>((align - address % align) % align), &result);
  return result;
}

}  // namespace gsys
