// Namespace calls a brick needs beyond Node's fs: openat2 confined beneath a directory,
// mknodat for fifos, sockets and devices, and utimensat/futimens with nanoseconds.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include "async.h"
#include "sys.h"

#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#else
struct open_how {
  uint64_t flags;
  uint64_t mode;
  uint64_t resolve;
};
#define RESOLVE_NO_XDEV 0x01
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_NO_SYMLINKS 0x04
#define RESOLVE_BENEATH 0x08
#define RESOLVE_IN_ROOT 0x10
#endif

#ifndef SYS_openat2
#define SYS_openat2 437  // the same number on every architecture (added in Linux 5.6)
#endif

namespace gsys {

namespace {

class OpenBeneathOp : public CallOp {
 public:
  using CallOp::CallOp;

 protected:
  void Explain() override {
    if (err_ != ENOSYS) return;
    struct utsname name;
    std::string release = uname(&name) == 0 ? name.release : "unknown";
    detail_ = "openat2 is not available on this kernel (" + release + "; Linux 5.6 or later is needed)";
  }
};

bool ArgDirFd(napi_env env, napi_value value, int* out) {
  int32_t fd;
  if (!ArgInt32(env, value, "dirFd", &fd)) return false;
  if (fd < 0 && fd != AT_FDCWD) {
    Fail(env, "ERR_INVALID_ARG_TYPE", "The \"dirFd\" argument must be a file descriptor or AT_FDCWD");
    return false;
  }
  *out = fd;
  return true;
}

bool ArgTimespec(napi_env env, napi_value sec, napi_value nsec, const char* name, timespec* out) {
  int64_t seconds, nanos;
  if (!ArgInt64(env, sec, name, &seconds) || !ArgInt64(env, nsec, name, &nanos)) return false;
  if ((nanos < 0 || nanos > 999999999) && nanos != UTIME_NOW && nanos != UTIME_OMIT) {
    Fail(env, "ERR_OUT_OF_RANGE", "nanoseconds must be in [0, 999999999] or UTIME_NOW/UTIME_OMIT");
    return false;
  }
  out->tv_sec = static_cast<time_t>(seconds);
  out->tv_nsec = static_cast<long>(nanos);
  return true;
}

}  // namespace

// openBeneath(dirFd, path, flags, mode, resolve) → Promise<number>: openat2 with the given
// RESOLVE_* bits (the caller always includes RESOLVE_BENEATH); O_CLOEXEC is always added.
napi_value OpenBeneath(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  int dir_fd;
  std::string path;
  int32_t flags, mode, resolve;
  if (!ReadArgs(env, info, 5, argv) || !ArgDirFd(env, argv[0], &dir_fd) || !ArgPath(env, argv[1], "path", &path) ||
      !ArgInt32(env, argv[2], "flags", &flags) || !ArgInt32(env, argv[3], "mode", &mode) ||
      !ArgInt32(env, argv[4], "resolve", &resolve)) {
    return nullptr;
  }
  open_how how{};
  how.flags = static_cast<uint32_t>(flags | O_CLOEXEC);
  // openat2 insists on mode 0 unless a file may be created.
  bool creates = (flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE;
  how.mode = creates ? static_cast<uint32_t>(mode) & 07777 : 0;
  how.resolve = static_cast<uint32_t>(resolve);
  auto* op = new OpenBeneathOp("openat2", CallOp::kNumber, [dir_fd, path, how]() -> int64_t {
    return syscall(SYS_openat2, dir_fd, path.c_str(), &how, sizeof how);
  });
  op->SetPath(path);
  return AsyncOp::Start(env, op);
}

// mknodat(dirFd, path, mode, dev) → Promise<void>
napi_value Mknodat(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int dir_fd;
  std::string path;
  int32_t mode;
  int64_t dev;
  if (!ReadArgs(env, info, 4, argv) || !ArgDirFd(env, argv[0], &dir_fd) || !ArgPath(env, argv[1], "path", &path) ||
      !ArgInt32(env, argv[2], "mode", &mode) || !ArgInt64(env, argv[3], "dev", &dev)) {
    return nullptr;
  }
  auto* op = new CallOp("mknodat", CallOp::kVoid, [dir_fd, path, mode, dev]() -> int64_t {
    return mknodat(dir_fd, path.c_str(), static_cast<mode_t>(mode), static_cast<dev_t>(dev));
  });
  op->SetPath(path);
  return AsyncOp::Start(env, op);
}

// utimensat(dirFd, path, atimeSec, atimeNsec, mtimeSec, mtimeNsec, flags) → Promise<void>
napi_value Utimensat(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  int dir_fd;
  std::string path;
  timespec times[2];
  int32_t flags;
  if (!ReadArgs(env, info, 7, argv) || !ArgDirFd(env, argv[0], &dir_fd) || !ArgPath(env, argv[1], "path", &path) ||
      !ArgTimespec(env, argv[2], argv[3], "atime", &times[0]) ||
      !ArgTimespec(env, argv[4], argv[5], "mtime", &times[1]) || !ArgInt32(env, argv[6], "flags", &flags)) {
    return nullptr;
  }
  auto* op = new CallOp("utimensat", CallOp::kVoid, [dir_fd, path, atime = times[0], mtime = times[1], flags]() {
    const timespec pair[2] = {atime, mtime};
    return static_cast<int64_t>(utimensat(dir_fd, path.c_str(), pair, flags));
  });
  op->SetPath(path);
  return AsyncOp::Start(env, op);
}

// futimens(fd, atimeSec, atimeNsec, mtimeSec, mtimeNsec) → Promise<void>
napi_value Futimens(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  int fd;
  timespec times[2];
  if (!ReadArgs(env, info, 5, argv) || !ArgFd(env, argv[0], "fd", &fd) ||
      !ArgTimespec(env, argv[1], argv[2], "atime", &times[0]) ||
      !ArgTimespec(env, argv[3], argv[4], "mtime", &times[1])) {
    return nullptr;
  }
  return AsyncOp::Start(env, new CallOp("futimens", CallOp::kVoid, [fd, atime = times[0], mtime = times[1]]() {
                          const timespec pair[2] = {atime, mtime};
                          return static_cast<int64_t>(futimens(fd, pair));
                        }));
}

}  // namespace gsys
