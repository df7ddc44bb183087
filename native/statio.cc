// A brick's READ and WRITE in one thread-pool hop each: the data transfer plus the
// fstat(s) the reply carries (and the fsync an O_SYNC/O_DSYNC write needs). Done as
// separate calls, each hop costs a queue round trip on the request's critical path.
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <vector>

#include "async.h"
#include "sys.h"

namespace gsys {

void PutStat(const struct stat& st, int64_t* out) {
  out[0] = static_cast<int64_t>(st.st_dev);
  out[1] = static_cast<int64_t>(st.st_ino);
  out[2] = st.st_mode;
  out[3] = static_cast<int64_t>(st.st_nlink);
  out[4] = st.st_uid;
  out[5] = st.st_gid;
  out[6] = static_cast<int64_t>(st.st_rdev);
  out[7] = st.st_size;
  out[8] = st.st_blksize;
  out[9] = st.st_blocks;
  out[10] = st.st_atim.tv_sec * 1000000000LL + st.st_atim.tv_nsec;
  out[11] = st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
  out[12] = st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec;
}

namespace {

class StatIoOp : public AsyncOp {
 public:
  // kind: 0 read, 1 write. sync (writes): 0 none, 1 fsync, 2 fdatasync.
  StatIoOp(int fd, int kind, std::vector<iovec> iov, int64_t position, int sync, int64_t* out)
      : AsyncOp(kind == 0 ? "preadv" : "pwritev"),
        fd_(fd),
        kind_(kind),
        iov_(std::move(iov)),
        position_(position),
        sync_(sync),
        out_(out) {}

 protected:
  void Execute() override {
    struct stat st;
    if (kind_ == 0) {
      ssize_t n = preadv(fd_, iov_.data(), static_cast<int>(iov_.size()), position_);
      if (n < 0) return Fail();
      done_ = n;
    } else {
      if (fstat(fd_, &st) < 0) return Fail();
      PutStat(st, out_);
      // Write everything, as a brick must: a short write is retried from where it stopped.
      size_t i = 0;
      while (i < iov_.size()) {
        ssize_t n = pwritev(fd_, iov_.data() + i, static_cast<int>(iov_.size() - i), position_ + done_);
        if (n < 0) return Fail();
        if (n == 0) break;
        done_ += n;
        size_t left = static_cast<size_t>(n);
        while (i < iov_.size() && left >= iov_[i].iov_len) left -= iov_[i++].iov_len;
        if (left > 0) {
          iov_[i].iov_base = static_cast<char*>(iov_[i].iov_base) + left;
          iov_[i].iov_len -= left;
        }
      }
      if (sync_ == 1 && fsync(fd_) < 0) return Fail();
      if (sync_ == 2 && fdatasync(fd_) < 0) return Fail();
    }
    if (fstat(fd_, &st) < 0) return Fail();
    PutStat(st, out_ + kStatFields);
  }

  napi_value Result(napi_env env) override {
    napi_value v;
    napi_create_int64(env, done_, &v);
    return v;
  }

 private:
  void Fail() { err_ = errno; }

  int fd_;
  int kind_;
  std::vector<iovec> iov_;
  int64_t position_;
  int sync_;
  int64_t* out_;
  int64_t done_ = 0;
};

}  // namespace

// statIo(fd, kind, buffers, position, sync, out: BigInt64Array(26)) → Promise<number>
// Writes the pre-write stat (writes only) to out[0..13) and the final stat to out[13..26).
napi_value StatIo(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  int fd;
  int32_t kind, sync;
  int64_t position;
  if (!ReadArgs(env, info, 6, argv) || !ArgFd(env, argv[0], "fd", &fd) || !ArgInt32(env, argv[1], "kind", &kind) ||
      !ArgInt64(env, argv[3], "position", &position) || !ArgInt32(env, argv[4], "sync", &sync)) {
    return nullptr;
  }
  if ((kind != 0 && kind != 1) || sync < 0 || sync > 2 || position < 0) {
    return Fail(env, "ERR_OUT_OF_RANGE", "statIo: bad kind, sync or position");
  }
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_value arraybuffer;
  size_t offset;
  bool is_typed = false;
  napi_is_typedarray(env, argv[5], &is_typed);
  if (!is_typed || napi_get_typedarray_info(env, argv[5], &type, &length, &data, &arraybuffer, &offset) != napi_ok ||
      type != napi_bigint64_array || length < 2 * kStatFields) {
    return Fail(env, "ERR_INVALID_ARG_TYPE", "The \"out\" argument must be a BigInt64Array of 26 elements");
  }
  bool is_array = false;
  napi_is_array(env, argv[2], &is_array);
  uint32_t count = 0;
  if (is_array) napi_get_array_length(env, argv[2], &count);
  if (!is_array || count > 1024) {
    return Fail(env, "ERR_INVALID_ARG_TYPE", "The \"buffers\" argument must be an array of at most 1024 views");
  }
  std::vector<iovec> iov(count);
  for (uint32_t i = 0; i < count; i++) {
    napi_value element;
    if (napi_get_element(env, argv[2], i, &element) != napi_ok) return nullptr;
    if (!ArgBytes(env, element, "buffers[i]", &iov[i].iov_base, &iov[i].iov_len)) return nullptr;
  }
  auto* op = new StatIoOp(fd, kind, std::move(iov), position, sync, static_cast<int64_t*>(data));
  for (uint32_t i = 0; i < count; i++) {
    napi_value element;
    napi_get_element(env, argv[2], i, &element);
    if (!op->Keep(env, element)) {
      delete op;
      return nullptr;
    }
  }
  if (!op->Keep(env, argv[5])) {
    delete op;
    return nullptr;
  }
  return AsyncOp::Start(env, op);
}

}  // namespace gsys
