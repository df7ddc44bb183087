// The native functions exported by glusterts_sys.node (see addon.cc for the table).
#pragma once

#include <node_api.h>
#include <sys/stat.h>

#include <cstdint>

#include "args.h"

namespace gsys {

// xattr.cc
napi_value GetXattr(napi_env env, napi_callback_info info);
napi_value LGetXattr(napi_env env, napi_callback_info info);
napi_value FGetXattr(napi_env env, napi_callback_info info);
napi_value SetXattr(napi_env env, napi_callback_info info);
napi_value LSetXattr(napi_env env, napi_callback_info info);
napi_value FSetXattr(napi_env env, napi_callback_info info);
napi_value ListXattr(napi_env env, napi_callback_info info);
napi_value LListXattr(napi_env env, napi_callback_info info);
napi_value FListXattr(napi_env env, napi_callback_info info);
napi_value RemoveXattr(napi_env env, napi_callback_info info);
napi_value LRemoveXattr(napi_env env, napi_callback_info info);
napi_value FRemoveXattr(napi_env env, napi_callback_info info);

// io.cc
napi_value Fallocate(napi_env env, napi_callback_info info);
napi_value Lseek(napi_env env, napi_callback_info info);
napi_value Preadv(napi_env env, napi_callback_info info);
napi_value Pwritev(napi_env env, napi_callback_info info);
napi_value Syncfs(napi_env env, napi_callback_info info);
napi_value StatIo(napi_env env, napi_callback_info info);

// statio.cc: the stat fields statIo and ringIo report, in order, as int64 (times in ns).
constexpr int kStatFields = 13;
void PutStat(const struct stat& st, int64_t* out);

// ring.cc
napi_value RingIo(napi_env env, napi_callback_info info);

// rangeio.cc
napi_value RangeIo(napi_env env, napi_callback_info info);

// memory.cc
napi_value AllocAligned(napi_env env, napi_callback_info info);
napi_value Misalignment(napi_env env, napi_callback_info info);

// files.cc
napi_value OpenBeneath(napi_env env, napi_callback_info info);
napi_value Mknodat(napi_env env, napi_callback_info info);
napi_value Utimensat(napi_env env, napi_callback_info info);
napi_value Futimens(napi_env env, napi_callback_info info);

}  // namespace gsys
