#include "async.h"

#include <cerrno>
#include <cstring>

namespace gsys {

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
#define GSYS_HAVE_STRERRORNAME_NP 1
#endif

namespace {

#ifndef GSYS_HAVE_STRERRORNAME_NP
// Used only where glibc lacks strerrorname_np (before 2.32, or another libc).
const char* FallbackErrnoName(int err) {
  switch (err) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EINTR: return "EINTR";
    case EIO: return "EIO";
    case ENXIO: return "ENXIO";
    case E2BIG: return "E2BIG";
    case EBADF: return "EBADF";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case EXDEV: return "EXDEV";
    case ENODEV: return "ENODEV";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case ENFILE: return "ENFILE";
    case EMFILE: return "EMFILE";
    case ETXTBSY: return "ETXTBSY";
    case EFBIG: return "EFBIG";
    case ENOSPC: return "ENOSPC";
    case ESPIPE: return "ESPIPE";
    case EROFS: return "EROFS";
    case EMLINK: return "EMLINK";
    case EPIPE: return "EPIPE";
    case ERANGE: return "ERANGE";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOSYS: return "ENOSYS";
    case ENOTEMPTY: return "ENOTEMPTY";
    case ELOOP: return "ELOOP";
    case ENODATA: return "ENODATA";
    case EOVERFLOW: return "EOVERFLOW";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EDQUOT: return "EDQUOT";
    case ESTALE: return "ESTALE";
    default: return "UNKNOWN";
  }
}
#endif

}  // namespace

const char* ErrnoName(int err) {
#ifdef GSYS_HAVE_STRERRORNAME_NP
  const char* name = strerrorname_np(err);
  return name != nullptr ? name : "UNKNOWN";
#else
  return FallbackErrnoName(err);
#endif
}

napi_value MakeSysError(napi_env env, int err, const char* syscall, const std::string* path,
                        const std::string& detail) {
  const char* name = ErrnoName(err);
  std::string description = detail;
  if (description.empty()) {
    char scratch[256];
    description = strerror_r(err, scratch, sizeof scratch);  // GNU variant: returns the text
  }
  std::string message = std::string(name) + ": " + description + ", " + syscall;
  if (path != nullptr) message += " '" + *path + "'";

  napi_value code, text, error, number, syscall_value;
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, message.c_str(), message.size(), &text);
  napi_create_error(env, code, text, &error);
  napi_create_int32(env, err, &number);
  napi_set_named_property(env, error, "errno", number);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &syscall_value);
  napi_set_named_property(env, error, "syscall", syscall_value);
  if (path != nullptr) {
    napi_value path_value;
    napi_create_string_utf8(env, path->data(), path->size(), &path_value);
    napi_set_named_property(env, error, "path", path_value);
  }
  return error;
}

napi_value AsyncOp::Start(napi_env env, AsyncOp* op) {
  napi_value promise, name;
  napi_create_string_utf8(env, op->syscall_, NAPI_AUTO_LENGTH, &name);
  if (napi_create_promise(env, &op->deferred_, &promise) != napi_ok ||
      napi_create_async_work(env, nullptr, name, OnExecute, OnComplete, op, &op->work_) != napi_ok ||
      napi_queue_async_work(env, op->work_) != napi_ok) {
    if (op->work_ != nullptr) napi_delete_async_work(env, op->work_);
    for (napi_ref ref : op->refs_) napi_delete_reference(env, ref);
    // A created deferred that is never settled is simply collected with its promise.
    delete op;
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending) napi_throw_error(env, "ERR_SYS_QUEUE", "could not queue the system call");
    return nullptr;
  }
  return promise;
}

bool AsyncOp::Keep(napi_env env, napi_value value) {
  napi_ref ref;
  if (napi_create_reference(env, value, 1, &ref) != napi_ok) return false;
  refs_.push_back(ref);
  return true;
}

void AsyncOp::OnExecute(napi_env, void* data) {
  static_cast<AsyncOp*>(data)->Execute();
}

void AsyncOp::OnComplete(napi_env env, napi_status status, void* data) {
  AsyncOp* op = static_cast<AsyncOp*>(data);
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  if (status == napi_cancelled) op->err_ = ECANCELED;
  if (op->err_ != 0) {
    napi_value error =
        MakeSysError(env, op->err_, op->syscall_, op->has_path_ ? &op->path_ : nullptr, op->detail_);
    napi_reject_deferred(env, op->deferred_, error);
  } else {
    napi_value result = op->Result(env);
    if (result == nullptr) {
      // Building the result failed (out of memory): reject with whatever was thrown.
      napi_value exception;
      napi_get_and_clear_last_exception(env, &exception);
      napi_reject_deferred(env, op->deferred_, exception);
    } else {
      napi_resolve_deferred(env, op->deferred_, result);
    }
  }
  for (napi_ref ref : op->refs_) napi_delete_reference(env, ref);
  napi_delete_async_work(env, op->work_);
  napi_close_handle_scope(env, scope);
  delete op;
}

void CallOp::Execute() {
  int64_t result;
  do {
    result = call_();
  } while (result == -1 && errno == EINTR);
  if (result == -1) {
    err_ = errno;
    Explain();
  } else {
    value_ = result;
  }
}

napi_value CallOp::Result(napi_env env) {
  napi_value result;
  if (resolve_ == kNumber) {
    napi_create_int64(env, value_, &result);
  } else {
    napi_get_undefined(env, &result);
  }
  return result;
}

}  // namespace gsys
