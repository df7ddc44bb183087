// Data-path calls Node's fs lacks: fallocate (with punch-hole and zero-range modes), lseek
// with SEEK_DATA/SEEK_HOLE, vectored positional IO, and syncfs.
#include <fcntl.h>
#include <limits.h>
#include <sys/uio.h>
#include <unistd.h>

#include <vector>

#include "async.h"
#include "sys.h"

namespace gsys {

namespace {

bool ArgOffset(napi_env env, napi_value value, const char* name, int64_t* out) {
  if (!ArgInt64(env, value, name, out)) return false;
  if (*out < 0) {
    Fail(env, "ERR_OUT_OF_RANGE", std::string("The \"") + name + "\" argument must be >= 0");
    return false;
  }
  return true;
}

// Reads (fd, buffers[], position) and keeps every buffer alive in `op` until it settles.
bool ArgVector(napi_env env, napi_value array, std::vector<iovec>* iov) {
  bool is_array = false;
  napi_is_array(env, array, &is_array);
  if (!is_array) {
    Fail(env, "ERR_INVALID_ARG_TYPE", "The \"buffers\" argument must be an array of ArrayBufferViews");
    return false;
  }
  uint32_t count;
  napi_get_array_length(env, array, &count);
  if (count > IOV_MAX) {
    Fail(env, "ERR_OUT_OF_RANGE", "The \"buffers\" argument must have at most IOV_MAX (1024) entries");
    return false;
  }
  iov->resize(count);
  for (uint32_t i = 0; i < count; i++) {
    napi_value element;
    if (napi_get_element(env, array, i, &element) != napi_ok) return false;
    if (!ArgBytes(env, element, "buffers[i]", &(*iov)[i].iov_base, &(*iov)[i].iov_len)) return false;
  }
  return true;
}

napi_value Vectored(napi_env env, napi_callback_info info, bool write) {
  napi_value argv[3];
  int fd;
  std::vector<iovec> iov;
  int64_t position;
  if (!ReadArgs(env, info, 3, argv) || !ArgFd(env, argv[0], "fd", &fd) || !ArgVector(env, argv[1], &iov) ||
      !ArgOffset(env, argv[2], "position", &position)) {
    return nullptr;
  }
  auto* op = new CallOp(write ? "pwritev" : "preadv", CallOp::kNumber, [fd, iov, position, write]() -> int64_t {
    int count = static_cast<int>(iov.size());
    return write ? pwritev(fd, iov.data(), count, position) : preadv(fd, iov.data(), count, position);
  });
  uint32_t count = static_cast<uint32_t>(iov.size());
  for (uint32_t i = 0; i < count; i++) {
    napi_value element;
    napi_get_element(env, argv[1], i, &element);
    if (!op->Keep(env, element)) {
      delete op;
      return nullptr;
    }
  }
  return AsyncOp::Start(env, op);
}

}  // namespace

// fallocate(fd, mode, offset, length) → Promise<void>
napi_value Fallocate(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int fd;
  int32_t mode;
  int64_t offset, length;
  if (!ReadArgs(env, info, 4, argv) || !ArgFd(env, argv[0], "fd", &fd) || !ArgInt32(env, argv[1], "mode", &mode) ||
      !ArgOffset(env, argv[2], "offset", &offset) || !ArgOffset(env, argv[3], "length", &length)) {
    return nullptr;
  }
  return AsyncOp::Start(env, new CallOp("fallocate", CallOp::kVoid, [fd, mode, offset, length]() -> int64_t {
                          return fallocate(fd, mode, offset, length);
                        }));
}

// lseek(fd, offset, whence) → Promise<number>
napi_value Lseek(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int fd;
  int64_t offset;
  int32_t whence;
  if (!ReadArgs(env, info, 3, argv) || !ArgFd(env, argv[0], "fd", &fd) || !ArgInt64(env, argv[1], "offset", &offset) ||
      !ArgInt32(env, argv[2], "whence", &whence)) {
    return nullptr;
  }
  return AsyncOp::Start(env, new CallOp("lseek", CallOp::kNumber, [fd, offset, whence]() -> int64_t {
                          return lseek(fd, offset, whence);
                        }));
}

// preadv(fd, buffers, position) → Promise<number>
napi_value Preadv(napi_env env, napi_callback_info info) { return Vectored(env, info, false); }

// pwritev(fd, buffers, position) → Promise<number>
napi_value Pwritev(napi_env env, napi_callback_info info) { return Vectored(env, info, true); }

// syncfs(fd) → Promise<void>
napi_value Syncfs(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  if (!ReadArgs(env, info, 1, argv) || !ArgFd(env, argv[0], "fd", &fd)) return nullptr;
  return AsyncOp::Start(env, new CallOp("syncfs", CallOp::kVoid, [fd]() -> int64_t { return syncfs(fd); }));
}

}  // namespace gsys
