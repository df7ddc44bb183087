#include "args.h"

#include <cmath>
#include <cstring>

namespace gsys {

namespace {

constexpr double kMaxSafeInteger = 9007199254740991.0;

bool TypeFail(napi_env env, const char* name, const char* expected) {
  std::string message = std::string("The \"") + name + "\" argument must be " + expected;
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message.c_str());
  return false;
}

size_t ElementSize(napi_typedarray_type type) {
  switch (type) {
    case napi_int8_array:
    case napi_uint8_array:
    case napi_uint8_clamped_array:
      return 1;
    case napi_int16_array:
    case napi_uint16_array:
      return 2;
    case napi_int32_array:
    case napi_uint32_array:
    case napi_float32_array:
      return 4;
    case napi_float64_array:
    case napi_bigint64_array:
    case napi_biguint64_array:
      return 8;
  }
  return 1;
}

}  // namespace

napi_value Fail(napi_env env, const char* code, const std::string& message) {
  napi_throw_type_error(env, code, message.c_str());
  return nullptr;
}

bool ReadArgs(napi_env env, napi_callback_info info, size_t count, napi_value* argv) {
  size_t argc = count;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return false;
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  for (size_t i = argc; i < count; i++) argv[i] = undefined;
  return true;
}

bool ArgInt32(napi_env env, napi_value value, const char* name, int32_t* out) {
  int64_t wide;
  if (!ArgInt64(env, value, name, &wide)) return false;
  if (wide < INT32_MIN || wide > INT32_MAX) return TypeFail(env, name, "a 32-bit integer");
  *out = static_cast<int32_t>(wide);
  return true;
}

bool ArgFd(napi_env env, napi_value value, const char* name, int* out) {
  int32_t fd;
  napi_valuetype type;
  napi_typeof(env, value, &type);
  if (type != napi_number) return TypeFail(env, name, "a file descriptor (non-negative integer)");
  if (!ArgInt32(env, value, name, &fd)) return false;
  if (fd < 0) return TypeFail(env, name, "a file descriptor (non-negative integer)");
  *out = fd;
  return true;
}

bool ArgInt64(napi_env env, napi_value value, const char* name, int64_t* out) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok) return false;
  if (type == napi_number) {
    double number;
    napi_get_value_double(env, value, &number);
    if (!std::isfinite(number) || std::trunc(number) != number || std::fabs(number) > kMaxSafeInteger) {
      return TypeFail(env, name, "a safe integer");
    }
    *out = static_cast<int64_t>(number);
    return true;
  }
  if (type == napi_bigint) {
    bool lossless = false;
    napi_get_value_bigint_int64(env, value, out, &lossless);
    if (!lossless) return TypeFail(env, name, "a bigint in the int64 range");
    return true;
  }
  return TypeFail(env, name, "an integer (number or bigint)");
}

bool ArgPath(napi_env env, napi_value value, const char* name, std::string* out) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok) return false;
  if (type == napi_string) {
    size_t length = 0;
    napi_get_value_string_utf8(env, value, nullptr, 0, &length);
    out->assign(length + 1, '\0');
    napi_get_value_string_utf8(env, value, out->data(), length + 1, &length);
    out->resize(length);
  } else {
    bool is_typed = false;
    napi_is_typedarray(env, value, &is_typed);
    if (!is_typed) return TypeFail(env, name, "a string or a Uint8Array");
    napi_typedarray_type array_type;
    size_t length;
    void* data;
    napi_get_typedarray_info(env, value, &array_type, &length, &data, nullptr, nullptr);
    if (array_type != napi_uint8_array) return TypeFail(env, name, "a string or a Uint8Array");
    out->assign(static_cast<const char*>(data), length);
  }
  if (std::memchr(out->data(), '\0', out->size()) != nullptr) {
    std::string message = std::string("The \"") + name + "\" argument must not contain null bytes";
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", message.c_str());
    return false;
  }
  return true;
}

bool ArgBytes(napi_env env, napi_value value, const char* name, void** data, size_t* length) {
  bool is_typed = false;
  napi_is_typedarray(env, value, &is_typed);
  if (is_typed) {
    napi_typedarray_type type;
    size_t elements;
    napi_get_typedarray_info(env, value, &type, &elements, data, nullptr, nullptr);
    *length = elements * ElementSize(type);
    return true;
  }
  bool is_view = false;
  napi_is_dataview(env, value, &is_view);
  if (is_view) {
    napi_get_dataview_info(env, value, length, data, nullptr, nullptr);
    return true;
  }
  return TypeFail(env, name, "a Buffer, TypedArray or DataView");
}

}  // namespace gsys
