// One blocking system call run on the libuv thread pool (napi_async_work), settled as a
// promise. The event loop only converts arguments before and builds the result after.
#pragma once

#include <node_api.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace gsys {

class AsyncOp {
 public:
  explicit AsyncOp(const char* syscall) : syscall_(syscall) {}
  virtual ~AsyncOp() = default;
  AsyncOp(const AsyncOp&) = delete;
  AsyncOp& operator=(const AsyncOp&) = delete;

  // Queues `op` and returns its promise; the op deletes itself once settled. On failure the
  // op is deleted and nullptr is returned with an exception pending.
  static napi_value Start(napi_env env, AsyncOp* op);

  // Keeps a JavaScript value (a buffer the thread reads or writes) alive until settled.
  bool Keep(napi_env env, napi_value value);

  // Names the path in a rejection, as Node's fs errors do.
  void SetPath(const std::string& path) {
    path_ = path;
    has_path_ = true;
  }

 protected:
  // Thread pool: performs the call; on failure stores the errno in err_.
  virtual void Execute() = 0;
  // Event loop, success only: the resolution value.
  virtual napi_value Result(napi_env env) = 0;

  int err_ = 0;
  // Replaces strerror's text in the rejection message when set (e.g. a missing syscall).
  std::string detail_;

 private:
  static void OnExecute(napi_env env, void* data);
  static void OnComplete(napi_env env, napi_status status, void* data);

  const char* syscall_;
  std::string path_;
  bool has_path_ = false;
  napi_async_work work_ = nullptr;
  napi_deferred deferred_ = nullptr;
  std::vector<napi_ref> refs_;
};

// The common case: a call returning -1 with errno on failure, resolving with nothing
// (kVoid) or with the non-negative return value as a number (kNumber).
class CallOp : public AsyncOp {
 public:
  enum Resolve { kVoid, kNumber };
  CallOp(const char* syscall, Resolve resolve, std::function<int64_t()> call)
      : AsyncOp(syscall), resolve_(resolve), call_(std::move(call)) {}

 protected:
  void Execute() override;
  napi_value Result(napi_env env) override;
  // Hook for ops that explain an errno better (openat2's ENOSYS).
  virtual void Explain() {}

 private:
  Resolve resolve_;
  std::function<int64_t()> call_;
  int64_t value_ = 0;
};

// An Error shaped like Node's fs errors: message "CODE: description, syscall 'path'",
// code = errno name ('ENODATA'), errno = the positive Linux errno, syscall, path.
napi_value MakeSysError(napi_env env, int err, const char* syscall, const std::string* path,
                        const std::string& detail);

// The errno's symbolic name: 'ENOENT', 'EOPNOTSUPP', …; 'UNKNOWN' if it has none.
const char* ErrnoName(int err);

}  // namespace gsys
