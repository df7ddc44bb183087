// glusterts_sys.node: the system calls a brick needs and Node's fs lacks. Every function
// but allocAligned returns a promise settled from the libuv thread pool; see docs/sys.md.
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "sys.h"

#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#endif

namespace gsys {

namespace {

struct Function {
  const char* name;
  napi_callback callback;
};

constexpr Function kFunctions[] = {
    {"getxattr", GetXattr},       {"lgetxattr", LGetXattr},       {"fgetxattr", FGetXattr},
    {"setxattr", SetXattr},       {"lsetxattr", LSetXattr},       {"fsetxattr", FSetXattr},
    {"listxattr", ListXattr},     {"llistxattr", LListXattr},     {"flistxattr", FListXattr},
    {"removexattr", RemoveXattr}, {"lremovexattr", LRemoveXattr}, {"fremovexattr", FRemoveXattr},
    {"fallocate", Fallocate},     {"lseek", Lseek},               {"preadv", Preadv},
    {"pwritev", Pwritev},         {"syncfs", Syncfs},             {"allocAligned", AllocAligned},
    {"openBeneath", OpenBeneath}, {"mknodat", Mknodat},           {"utimensat", Utimensat},
    {"futimens", Futimens},       {"statIo", StatIo},             {"ringIo", RingIo},
    {"misalignment", Misalignment},
    {"rangeIo", RangeIo},
};

struct Constant {
  const char* name;
  int64_t value;
};

// The platform's values, so the TypeScript side can check its own copies against them.
constexpr Constant kConstants[] = {
    {"XATTR_CREATE", XATTR_CREATE},
    {"XATTR_REPLACE", XATTR_REPLACE},
    {"FALLOC_FL_KEEP_SIZE", FALLOC_FL_KEEP_SIZE},
    {"FALLOC_FL_PUNCH_HOLE", FALLOC_FL_PUNCH_HOLE},
    {"FALLOC_FL_COLLAPSE_RANGE", FALLOC_FL_COLLAPSE_RANGE},
    {"FALLOC_FL_ZERO_RANGE", FALLOC_FL_ZERO_RANGE},
    {"FALLOC_FL_INSERT_RANGE", FALLOC_FL_INSERT_RANGE},
    {"SEEK_SET", SEEK_SET},
    {"SEEK_CUR", SEEK_CUR},
    {"SEEK_END", SEEK_END},
    {"SEEK_DATA", SEEK_DATA},
    {"SEEK_HOLE", SEEK_HOLE},
    {"RESOLVE_NO_XDEV", RESOLVE_NO_XDEV},
    {"RESOLVE_NO_MAGICLINKS", RESOLVE_NO_MAGICLINKS},
    {"RESOLVE_NO_SYMLINKS", RESOLVE_NO_SYMLINKS},
    {"RESOLVE_BENEATH", RESOLVE_BENEATH},
    {"RESOLVE_IN_ROOT", RESOLVE_IN_ROOT},
    {"AT_FDCWD", AT_FDCWD},
    {"AT_SYMLINK_NOFOLLOW", AT_SYMLINK_NOFOLLOW},
    {"UTIME_NOW", UTIME_NOW},
    {"UTIME_OMIT", UTIME_OMIT},
    {"O_DIRECT", O_DIRECT},
    {"O_PATH", O_PATH},
    {"O_TMPFILE", O_TMPFILE},
    {"S_IFIFO", S_IFIFO},
    {"S_IFCHR", S_IFCHR},
    {"S_IFBLK", S_IFBLK},
    {"S_IFREG", S_IFREG},
    {"S_IFSOCK", S_IFSOCK},
};

napi_value Init(napi_env env, napi_value exports) {
  for (const Function& function : kFunctions) {
    napi_value value;
    if (napi_create_function(env, function.name, NAPI_AUTO_LENGTH, function.callback, nullptr, &value) != napi_ok ||
        napi_set_named_property(env, exports, function.name, value) != napi_ok) {
      return nullptr;
    }
  }
  napi_value constants;
  napi_create_object(env, &constants);
  for (const Constant& constant : kConstants) {
    napi_value value;
    napi_create_int64(env, constant.value, &value);
    napi_set_named_property(env, constants, constant.name, value);
  }
  napi_set_named_property(env, exports, "constants", constants);
  return exports;
}

}  // namespace

}  // namespace gsys

NAPI_MODULE_INIT() { return gsys::Init(env, exports); }
