// Extended attributes on paths (following or not following a final symlink) and on fds.
// Node's fs has no xattr calls at all; a brick keeps its GFID and the replication and
// quota bookkeeping in trusted.* xattrs.
#include <sys/xattr.h>

#include <cerrno>
#include <string>
#include <vector>

#include "async.h"
#include "sys.h"

namespace gsys {

namespace {

enum class Via { kPath, kLink, kFd };

// What an xattr call acts on: a path (followed or not) or an open fd.
struct Target {
  Via via;
  std::string path;
  int fd = -1;

  ssize_t Get(const char* name, void* value, size_t size) const {
    switch (via) {
      case Via::kPath: return getxattr(path.c_str(), name, value, size);
      case Via::kLink: return lgetxattr(path.c_str(), name, value, size);
      case Via::kFd: return fgetxattr(fd, name, value, size);
    }
    return -1;
  }
  ssize_t List(char* list, size_t size) const {
    switch (via) {
      case Via::kPath: return listxattr(path.c_str(), list, size);
      case Via::kLink: return llistxattr(path.c_str(), list, size);
      case Via::kFd: return flistxattr(fd, list, size);
    }
    return -1;
  }
  int Set(const char* name, const void* value, size_t size, int flags) const {
    switch (via) {
      case Via::kPath: return setxattr(path.c_str(), name, value, size, flags);
      case Via::kLink: return lsetxattr(path.c_str(), name, value, size, flags);
      case Via::kFd: return fsetxattr(fd, name, value, size, flags);
    }
    return -1;
  }
  int Remove(const char* name) const {
    switch (via) {
      case Via::kPath: return removexattr(path.c_str(), name);
      case Via::kLink: return lremovexattr(path.c_str(), name);
      case Via::kFd: return fremovexattr(fd, name);
    }
    return -1;
  }
};

bool ArgTarget(napi_env env, napi_value value, Via via, Target* out) {
  out->via = via;
  if (via == Via::kFd) return ArgFd(env, value, "fd", &out->fd);
  return ArgPath(env, value, "path", &out->path);
}

// Calls `fetch(buffer, size)` with a small first guess; on ERANGE asks the size with
// fetch(nullptr, 0) and retries, since the value may change between the two calls.
template <typename Fetch>
int ReadSized(std::vector<char>* out, Fetch fetch) {
  out->resize(256);
  for (int attempt = 0; attempt < 16; attempt++) {
    ssize_t got = fetch(out->data(), out->size());
    if (got >= 0) {
      out->resize(static_cast<size_t>(got));
      return 0;
    }
    if (errno != ERANGE) return errno;
    ssize_t need = fetch(nullptr, 0);
    if (need < 0) return errno;
    out->resize(static_cast<size_t>(need) + 1);  // +1 so an empty value still gets a buffer
  }
  return ERANGE;
}

class GetOp : public AsyncOp {
 public:
  GetOp(const char* syscall, Target target, std::string name)
      : AsyncOp(syscall), target_(std::move(target)), name_(std::move(name)) {}

 protected:
  void Execute() override {
    err_ = ReadSized(&value_, [this](void* data, size_t size) {
      return target_.Get(name_.c_str(), data, size);
    });
  }
  napi_value Result(napi_env env) override {
    napi_value buffer;
    if (napi_create_buffer_copy(env, value_.size(), value_.data(), nullptr, &buffer) != napi_ok) {
      return nullptr;
    }
    return buffer;
  }

 private:
  Target target_;
  std::string name_;
  std::vector<char> value_;
};

class ListOp : public AsyncOp {
 public:
  ListOp(const char* syscall, Target target) : AsyncOp(syscall), target_(std::move(target)) {}

 protected:
  void Execute() override {
    err_ = ReadSized(&names_, [this](void* data, size_t size) {
      return target_.List(static_cast<char*>(data), size);
    });
  }
  napi_value Result(napi_env env) override {
    napi_value array;
    napi_create_array(env, &array);
    uint32_t index = 0;
    size_t start = 0;
    for (size_t i = 0; i < names_.size(); i++) {
      if (names_[i] != '\0') continue;
      napi_value name;
      napi_create_string_utf8(env, names_.data() + start, i - start, &name);
      napi_set_element(env, array, index++, name);
      start = i + 1;
    }
    return array;
  }

 private:
  Target target_;
  std::vector<char> names_;
};

napi_value Get(napi_env env, napi_callback_info info, Via via, const char* syscall) {
  napi_value argv[2];
  Target target;
  std::string name;
  if (!ReadArgs(env, info, 2, argv) || !ArgTarget(env, argv[0], via, &target) ||
      !ArgPath(env, argv[1], "name", &name)) {
    return nullptr;
  }
  auto* op = new GetOp(syscall, target, name);
  if (via != Via::kFd) op->SetPath(target.path);
  return AsyncOp::Start(env, op);
}

napi_value List(napi_env env, napi_callback_info info, Via via, const char* syscall) {
  napi_value argv[1];
  Target target;
  if (!ReadArgs(env, info, 1, argv) || !ArgTarget(env, argv[0], via, &target)) return nullptr;
  auto* op = new ListOp(syscall, target);
  if (via != Via::kFd) op->SetPath(target.path);
  return AsyncOp::Start(env, op);
}

napi_value Set(napi_env env, napi_callback_info info, Via via, const char* syscall) {
  napi_value argv[4];
  Target target;
  std::string name;
  void* data;
  size_t length;
  int32_t flags;
  if (!ReadArgs(env, info, 4, argv) || !ArgTarget(env, argv[0], via, &target) ||
      !ArgPath(env, argv[1], "name", &name) || !ArgBytes(env, argv[2], "value", &data, &length) ||
      !ArgInt32(env, argv[3], "flags", &flags)) {
    return nullptr;
  }
  // Copied: values are small (at most 64 KiB) and the caller may reuse its buffer at once.
  std::string value(static_cast<const char*>(data), length);
  auto* op = new CallOp(syscall, CallOp::kVoid, [target, name, value, flags]() -> int64_t {
    return target.Set(name.c_str(), value.data(), value.size(), flags);
  });
  if (via != Via::kFd) op->SetPath(target.path);
  return AsyncOp::Start(env, op);
}

napi_value Remove(napi_env env, napi_callback_info info, Via via, const char* syscall) {
  napi_value argv[2];
  Target target;
  std::string name;
  if (!ReadArgs(env, info, 2, argv) || !ArgTarget(env, argv[0], via, &target) ||
      !ArgPath(env, argv[1], "name", &name)) {
    return nullptr;
  }
  auto* op = new CallOp(syscall, CallOp::kVoid,
                        [target, name]() -> int64_t { return target.Remove(name.c_str()); });
  if (via != Via::kFd) op->SetPath(target.path);
  return AsyncOp::Start(env, op);
}

}  // namespace

// getxattr(path, name) → Promise<Buffer>, and the l- and f- variants.
napi_value GetXattr(napi_env env, napi_callback_info info) { return Get(env, info, Via::kPath, "getxattr"); }
napi_value LGetXattr(napi_env env, napi_callback_info info) { return Get(env, info, Via::kLink, "lgetxattr"); }
napi_value FGetXattr(napi_env env, napi_callback_info info) { return Get(env, info, Via::kFd, "fgetxattr"); }

// listxattr(path) → Promise<string[]>
napi_value ListXattr(napi_env env, napi_callback_info info) { return List(env, info, Via::kPath, "listxattr"); }
napi_value LListXattr(napi_env env, napi_callback_info info) { return List(env, info, Via::kLink, "llistxattr"); }
napi_value FListXattr(napi_env env, napi_callback_info info) { return List(env, info, Via::kFd, "flistxattr"); }

// setxattr(path, name, value, flags) → Promise<void>
napi_value SetXattr(napi_env env, napi_callback_info info) { return Set(env, info, Via::kPath, "setxattr"); }
napi_value LSetXattr(napi_env env, napi_callback_info info) { return Set(env, info, Via::kLink, "lsetxattr"); }
napi_value FSetXattr(napi_env env, napi_callback_info info) { return Set(env, info, Via::kFd, "fsetxattr"); }

// removexattr(path, name) → Promise<void>
napi_value RemoveXattr(napi_env env, napi_callback_info info) { return Remove(env, info, Via::kPath, "removexattr"); }
napi_value LRemoveXattr(napi_env env, napi_callback_info info) { return Remove(env, info, Via::kLink, "lremovexattr"); }
napi_value FRemoveXattr(napi_env env, napi_callback_info info) { return Remove(env, info, Via::kFd, "fremovexattr"); }

}  // namespace gsys
