// Many byte ranges of one file in one thread-pool hop: the brick side of the heal's vectored
// READ and WRITE (src/protocol/vector-io.ts). Done one range per call, a batch of 32
// scattered 4 KiB ranges cost 32 hops (or 32 ring submissions) and 64 fstats; here it is
// one hop, the ranges' preads or pwrites back to back, and the fstats a reply carries once.
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include "args.h"
#include "async.h"
#include "sys.h"

namespace gsys {

namespace {

// The most ranges one call takes (the wire allows 256: src/protocol/vector-io.ts).
constexpr uint32_t kMaxRanges = 1024;

struct Range {
  char* data;
  size_t length;
  int64_t position;
};

class RangeIoOp : public AsyncOp {
 public:
  // kind: 0 read, 1 write. out: pre stat (writes), post stat, then the bytes per range.
  RangeIoOp(int fd, int kind, std::vector<Range> ranges, int64_t* out)
      : AsyncOp(kind == 0 ? "pread" : "pwrite"), fd_(fd), kind_(kind), ranges_(std::move(ranges)), out_(out) {}

 protected:
  void Execute() override {
    struct stat st;
    if (kind_ == 1) {
      if (fstat(fd_, &st) < 0) return Fail();
      PutStat(st, out_);
    }
    for (size_t i = 0; i < ranges_.size(); i++) {
      const Range& r = ranges_[i];
      size_t done = 0;
      // Reads stop short only at end of file; writes go on until every byte is stored.
      while (done < r.length) {
        ssize_t n = kind_ == 0 ? pread(fd_, r.data + done, r.length - done, r.position + done)
                               : pwrite(fd_, r.data + done, r.length - done, r.position + done);
        if (n < 0) {
          if (errno == EINTR) continue;
          return Fail();
        }
        if (n == 0) {
          if (kind_ == 1) {
            err_ = ENOSPC;  // a write that stores nothing and reports no error: no room
            return;
          }
          break;
        }
        done += static_cast<size_t>(n);
      }
      out_[2 * kStatFields + i] = static_cast<int64_t>(done);
    }
    if (fstat(fd_, &st) < 0) return Fail();
    PutStat(st, out_ + kStatFields);
  }

  napi_value Result(napi_env env) override {
    napi_value v;
    napi_get_undefined(env, &v);
    return v;
  }

 private:
  void Fail() { err_ = errno; }

  int fd_;
  int kind_;
  std::vector<Range> ranges_;
  int64_t* out_;
};

bool BigInt64View(napi_env env, napi_value value, const char* name, size_t min, int64_t** data, size_t* length) {
  bool is_typed = false;
  napi_typedarray_type type;
  napi_value arraybuffer;
  size_t offset;
  void* raw = nullptr;
  napi_is_typedarray(env, value, &is_typed);
  if (!is_typed || napi_get_typedarray_info(env, value, &type, length, &raw, &arraybuffer, &offset) != napi_ok ||
      type != napi_bigint64_array || *length < min) {
    Fail(env, "ERR_INVALID_ARG_TYPE",
         std::string("The \"") + name + "\" argument must be a BigInt64Array of " + std::to_string(min) + " elements");
    return false;
  }
  *data = static_cast<int64_t*>(raw);
  return true;
}

}  // namespace

// rangeIo(fd, kind, buffers, positions: BigInt64Array(n), out: BigInt64Array(26 + n)) → Promise<undefined>
// kind 0 reads range i into buffers[i] from positions[i] (short only at end of file), 1 writes
// buffers[i] there in full. out[0..13): the stat before (writes), out[13..26): the stat after,
// out[26 + i]: the bytes of range i. Stops at the first failing range and rejects with its errno.
napi_value RangeIo(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  int fd;
  int32_t kind;
  if (!ReadArgs(env, info, 5, argv) || !ArgFd(env, argv[0], "fd", &fd) || !ArgInt32(env, argv[1], "kind", &kind)) {
    return nullptr;
  }
  if (kind != 0 && kind != 1) return Fail(env, "ERR_OUT_OF_RANGE", "rangeIo: kind must be 0 (read) or 1 (write)");
  bool is_array = false;
  napi_is_array(env, argv[2], &is_array);
  uint32_t count = 0;
  if (is_array) napi_get_array_length(env, argv[2], &count);
  if (!is_array || count > kMaxRanges) {
    return Fail(env, "ERR_INVALID_ARG_TYPE", "The \"buffers\" argument must be an array of at most 1024 views");
  }
  int64_t* positions;
  int64_t* out;
  size_t positions_length, out_length;
  if (!BigInt64View(env, argv[3], "positions", count, &positions, &positions_length) ||
      !BigInt64View(env, argv[4], "out", 2 * kStatFields + count, &out, &out_length)) {
    return nullptr;
  }
  std::vector<Range> ranges(count);
  for (uint32_t i = 0; i < count; i++) {
    napi_value element;
    void* data;
    if (napi_get_element(env, argv[2], i, &element) != napi_ok) return nullptr;
    if (!ArgBytes(env, element, "buffers[i]", &data, &ranges[i].length)) return nullptr;
    ranges[i].data = static_cast<char*>(data);
    ranges[i].position = positions[i];
    if (positions[i] < 0) return Fail(env, "ERR_OUT_OF_RANGE", "rangeIo: a negative position");
  }
  auto* op = new RangeIoOp(fd, kind, std::move(ranges), out);
  for (uint32_t i = 0; i < count; i++) {
    napi_value element;
    napi_get_element(env, argv[2], i, &element);
    if (!op->Keep(env, element)) {
      delete op;
      return nullptr;
    }
  }
  if (!op->Keep(env, argv[4])) {
    delete op;
    return nullptr;
  }
  return AsyncOp::Start(env, op);
}

}  // namespace gsys
