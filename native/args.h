// Argument readers for the native functions. Each returns false with a pending TypeError
// when the JavaScript value is unusable, so a bad argument never reaches a system call and
// never crashes the process. The TypeScript wrapper (src/sys) validates first and gives the
// friendlier messages; these checks are the last line of defence.
#pragma once

#include <node_api.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace gsys {

// Reads up to `count` arguments; missing ones are `undefined` (and then fail their check).
bool ReadArgs(napi_env env, napi_callback_info info, size_t count, napi_value* argv);

// An integral number in the int32 range.
bool ArgInt32(napi_env env, napi_value value, const char* name, int32_t* out);

// A file descriptor: an integral number in [0, 2^31).
bool ArgFd(napi_env env, napi_value value, const char* name, int* out);

// A safe integer (|n| < 2^53) or a bigint that fits int64.
bool ArgInt64(napi_env env, napi_value value, const char* name, int64_t* out);

// A path or name: a string (UTF-8 encoded) or a Uint8Array of raw bytes, without NUL bytes.
bool ArgPath(napi_env env, napi_value value, const char* name, std::string* out);

// Any ArrayBufferView (Buffer, typed array, DataView): its memory and byte length.
bool ArgBytes(napi_env env, napi_value value, const char* name, void** data, size_t* length);

// Throws TypeError(code, message) and returns nullptr, for `return Fail(...)` in callbacks.
napi_value Fail(napi_env env, const char* code, const std::string& message);

}  // namespace gsys
