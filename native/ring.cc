// statIo through io_uring: the same READ/WRITE with the stats its reply carries, without the
// two thread hops per IO of the libuv pool (wake a worker, wake the loop back). The pre- and
// post-write fstat run on the event loop (an open fd's inode is in memory: no disk access);
// the read or write, and the fsync an O_SYNC/O_DSYNC write asks for, go to the kernel's
// ring; completions arrive through an eventfd the loop polls, and all completions of one
// wakeup settle their promises in one callback scope.
//
// Every submission also reaps what has completed so far. Without that, a loop busy reading a
// burst of requests (libuv reads a socket up to 32 times per wakeup, and fio's write-behind
// sends ~1 MiB per connection at once) noticed the completions of earlier requests only when
// it next polled: the whole burst was answered together, the client then sent the next one,
// and the disk idled between bursts (seq 128 KiB writes on ext4: ~600 IOPS against stock's
// ~2500, with the device taking ~0.2 ms per write).
//
// ringIo returns undefined when it cannot take the op (no io_uring: old kernel, seccomp,
// io_uring_disabled; or the submission failed); the caller then uses statIo.
#include <linux/io_uring.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include <uv.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "async.h"
#include "sys.h"

namespace gsys {

namespace {

constexpr unsigned kEntries = 256;

// Who issues the IO. For O_DIRECT on ext4 the submission is the block IO itself (the
// filesystem's mapping, the bio, the virtual disk's kick), done inline by io_uring_enter in the
// caller's thread: the loop's largest single cost, and on a busy 2-vCPU machine the one thread
// of the brick is runnable most of the time but gets a fraction of a CPU. With IOSQE_ASYNC the
// enter only queues the entry to the kernel's io-wq workers (threads of this process, in its
// accounting) and returns; a worker issues it on whichever CPU is free while the loop decodes
// the next request. Completions come back as before. GLUSTERTS_RING_ASYNC=0 issues inline.
// (IORING_SETUP_SQPOLL was measured too: its poller spins on a loaded 2-core machine and cut
// IOPS to 0.2-0.4x; docs/benchmarks.md.)
bool SubmitAsync() {
  const char* value = std::getenv("GLUSTERTS_RING_ASYNC");
  return value == nullptr || std::strcmp(value, "0") != 0;
}

struct RingOp {
  int fd;
  int kind;  // 0 read, 1 write
  int sync;  // writes: 0 none, 1 fsync, 2 fdatasync
  int64_t position;
  std::vector<iovec> iov;
  size_t next = 0;  // first iovec not yet fully written
  int64_t done = 0;
  bool syncing = false;
  int64_t* out;
  napi_deferred deferred = nullptr;
  std::vector<napi_ref> refs;
};

class Ring {
 public:
  // The env's ring, set up on first use; nullptr if io_uring is not available here.
  static Ring* Get(napi_env env);

  // Queues the op's next step (IO or fsync) and tells the kernel; false if it could not.
  bool Submit(RingOp* op);
  // Counts an op in flight (before its first Submit, which may complete it at once).
  void Started() {
    if (inflight_++ == 0) uv_ref(reinterpret_cast<uv_handle_t*>(&poll_));
  }
  void Withdrawn() {
    if (--inflight_ == 0) uv_unref(reinterpret_cast<uv_handle_t*>(&poll_));
  }
  // From a JavaScript call: settles every op completed so far; their promise reactions run
  // when the calling JavaScript returns, as for any promise settled during it.
  void Reap();

 private:
  bool Setup(napi_env env);
  void Drain();
  void ReapReady();
  void Complete(RingOp* op, int res);
  void Finish(RingOp* op, int err);
  static void OnReadable(uv_poll_t* handle, int status, int events);
  static void Cleanup(void* data);

  napi_env env_ = nullptr;
  bool async_ = false;
  int ring_fd_ = -1;
  int event_fd_ = -1;
  void* rings_ = MAP_FAILED;
  size_t rings_size_ = 0;
  io_uring_sqe* sqes_ = static_cast<io_uring_sqe*>(MAP_FAILED);
  size_t sqes_size_ = 0;
  std::atomic<unsigned>* sq_head_ = nullptr;
  std::atomic<unsigned>* sq_tail_ = nullptr;
  unsigned sq_mask_ = 0;
  unsigned* sq_array_ = nullptr;
  std::atomic<unsigned>* sq_flags_ = nullptr;
  std::atomic<unsigned>* cq_head_ = nullptr;
  std::atomic<unsigned>* cq_tail_ = nullptr;
  unsigned cq_mask_ = 0;
  io_uring_cqe* cqes_ = nullptr;
  uv_poll_t poll_;
  bool polling_ = false;
  bool reaping_ = false;
  unsigned inflight_ = 0;
  napi_ref resource_ = nullptr;
  napi_async_context context_ = nullptr;
};

// One ring per env (a worker thread gets its own); -1 marks "tried and unavailable".
struct RingSlot {
  Ring* ring = nullptr;
  bool failed = false;
};

thread_local RingSlot* tls_slot = nullptr;

Ring* Ring::Get(napi_env env) {
  // Instance data would be the per-env slot, but the addon already uses none; a thread has
  // exactly one env that loads this addon, so a thread-local slot is the same thing.
  if (tls_slot == nullptr) tls_slot = new RingSlot();
  if (tls_slot->ring != nullptr) return tls_slot->ring;
  if (tls_slot->failed) return nullptr;
  auto* ring = new Ring();
  if (!ring->Setup(env)) {
    Cleanup(ring);
    tls_slot->failed = true;
    return nullptr;
  }
  tls_slot->ring = ring;
  napi_add_env_cleanup_hook(env, Cleanup, ring);
  return ring;
}

bool Ring::Setup(napi_env env) {
  env_ = env;
  async_ = SubmitAsync();
  io_uring_params p;
  std::memset(&p, 0, sizeof p);
  ring_fd_ = static_cast<int>(syscall(__NR_io_uring_setup, kEntries, &p));
  if (ring_fd_ < 0) return false;
  // One mapping for both rings (every kernel since 5.4).
  if (!(p.features & IORING_FEAT_SINGLE_MMAP) || !(p.features & IORING_FEAT_NODROP)) return false;
  size_t sq_size = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  size_t cq_size = p.cq_off.cqes + p.cq_entries * sizeof(io_uring_cqe);
  rings_size_ = sq_size > cq_size ? sq_size : cq_size;
  rings_ = mmap(nullptr, rings_size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring_fd_,
                IORING_OFF_SQ_RING);
  if (rings_ == MAP_FAILED) return false;
  sqes_size_ = p.sq_entries * sizeof(io_uring_sqe);
  sqes_ = static_cast<io_uring_sqe*>(
      mmap(nullptr, sqes_size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring_fd_, IORING_OFF_SQES));
  if (sqes_ == MAP_FAILED) return false;
  char* base = static_cast<char*>(rings_);
  sq_head_ = reinterpret_cast<std::atomic<unsigned>*>(base + p.sq_off.head);
  sq_tail_ = reinterpret_cast<std::atomic<unsigned>*>(base + p.sq_off.tail);
  sq_mask_ = *reinterpret_cast<unsigned*>(base + p.sq_off.ring_mask);
  sq_array_ = reinterpret_cast<unsigned*>(base + p.sq_off.array);
  sq_flags_ = reinterpret_cast<std::atomic<unsigned>*>(base + p.sq_off.flags);
  cq_head_ = reinterpret_cast<std::atomic<unsigned>*>(base + p.cq_off.head);
  cq_tail_ = reinterpret_cast<std::atomic<unsigned>*>(base + p.cq_off.tail);
  cq_mask_ = *reinterpret_cast<unsigned*>(base + p.cq_off.ring_mask);
  cqes_ = reinterpret_cast<io_uring_cqe*>(base + p.cq_off.cqes);

  event_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (event_fd_ < 0) return false;
  if (syscall(__NR_io_uring_register, ring_fd_, IORING_REGISTER_EVENTFD, &event_fd_, 1) < 0) return false;
  uv_loop_t* loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return false;
  if (uv_poll_init(loop, &poll_, event_fd_) != 0) return false;
  polling_ = true;
  poll_.data = this;
  if (uv_poll_start(&poll_, UV_READABLE, OnReadable) != 0) return false;
  // Only IO in flight keeps the loop alive, as with the thread pool.
  uv_unref(reinterpret_cast<uv_handle_t*>(&poll_));

  napi_value resource, name;
  if (napi_create_object(env, &resource) != napi_ok ||
      napi_create_string_utf8(env, "glusterts:ringIo", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_reference(env, resource, 1, &resource_) != napi_ok ||
      napi_async_init(env, resource, name, &context_) != napi_ok) {
    return false;
  }
  return true;
}

void Ring::Cleanup(void* data) {
  auto* ring = static_cast<Ring*>(data);
  // Ops still in flight at env teardown are abandoned with the process or thread.
  if (ring->context_ != nullptr) napi_async_destroy(ring->env_, ring->context_);
  if (ring->resource_ != nullptr) napi_delete_reference(ring->env_, ring->resource_);
  if (ring->polling_) {
    uv_poll_stop(&ring->poll_);
    // The handle's memory must outlive libuv's close; the ring is leaked with it.
    uv_close(reinterpret_cast<uv_handle_t*>(&ring->poll_), nullptr);
  }
  if (ring->sqes_ != MAP_FAILED) munmap(ring->sqes_, ring->sqes_size_);
  if (ring->rings_ != MAP_FAILED) munmap(ring->rings_, ring->rings_size_);
  if (ring->event_fd_ >= 0) close(ring->event_fd_);
  if (ring->ring_fd_ >= 0) close(ring->ring_fd_);
  if (!ring->polling_) delete ring;
  if (tls_slot != nullptr && tls_slot->ring == ring) tls_slot->ring = nullptr;
}

bool Ring::Submit(RingOp* op) {
  unsigned tail = sq_tail_->load(std::memory_order_relaxed);
  // Every submission is handed to the kernel at once, so the queue is empty here; check anyway.
  if (tail - sq_head_->load(std::memory_order_acquire) > sq_mask_) return false;
  unsigned index = tail & sq_mask_;
  io_uring_sqe* sqe = &sqes_[index];
  std::memset(sqe, 0, sizeof *sqe);
  sqe->fd = op->fd;
  sqe->user_data = reinterpret_cast<uint64_t>(op);
  if (op->syncing) {
    sqe->opcode = IORING_OP_FSYNC;
    sqe->fsync_flags = op->sync == 2 ? IORING_FSYNC_DATASYNC : 0;
  } else {
    sqe->opcode = op->kind == 0 ? IORING_OP_READV : IORING_OP_WRITEV;
    sqe->addr = reinterpret_cast<uint64_t>(op->iov.data() + op->next);
    sqe->len = static_cast<unsigned>(op->iov.size() - op->next);
    sqe->off = static_cast<uint64_t>(op->position + op->done);
  }
  if (async_) sqe->flags |= IOSQE_ASYNC;
  sq_array_[index] = index;
  sq_tail_->store(tail + 1, std::memory_order_release);
  for (;;) {
    // GETEVENTS with min_complete 0 waits for nothing: it has the kernel post the completions
    // whose work is pending for this thread, so the Reap after this finds them.
    long n = syscall(__NR_io_uring_enter, ring_fd_, 1, 0, IORING_ENTER_GETEVENTS, nullptr, 0);
    if (n == 1) return true;
    if (n < 0 && errno == EINTR) continue;
    // Not taken: withdraw the entry so the next submission does not send it.
    sq_tail_->store(tail, std::memory_order_release);
    return false;
  }
}

void Ring::OnReadable(uv_poll_t* handle, int status, int events) {
  static_cast<Ring*>(handle->data)->Drain();
}

void Ring::Drain() {
  uint64_t count;
  while (read(event_fd_, &count, sizeof count) < 0 && errno == EINTR) {
  }
  napi_handle_scope handles;
  napi_open_handle_scope(env_, &handles);
  napi_value resource;
  napi_get_reference_value(env_, resource_, &resource);
  // Promise reactions of every completion below run when this scope closes.
  napi_callback_scope scope;
  napi_open_callback_scope(env_, resource, context_, &scope);
  ReapReady();
  napi_close_callback_scope(env_, scope);
  napi_close_handle_scope(env_, handles);
}

void Ring::Reap() {
  if (inflight_ == 0) return;
  napi_handle_scope handles;
  napi_open_handle_scope(env_, &handles);
  ReapReady();
  napi_close_handle_scope(env_, handles);
}

void Ring::ReapReady() {
  // Complete may Submit a follow-up step, which never reaps; a nested reap cannot happen, but
  // the guard keeps it that way.
  if (reaping_) return;
  reaping_ = true;
  for (;;) {
    unsigned head = cq_head_->load(std::memory_order_relaxed);
    unsigned tail = cq_tail_->load(std::memory_order_acquire);
    if (head == tail) {
      // More completions than the completion queue holds wait in the kernel's overflow list
      // and signal nothing more: ask for them now that there is room.
      if (!(sq_flags_->load(std::memory_order_acquire) & IORING_SQ_CQ_OVERFLOW)) break;
      syscall(__NR_io_uring_enter, ring_fd_, 0, 0, IORING_ENTER_GETEVENTS, nullptr, 0);
      if (cq_tail_->load(std::memory_order_acquire) == head) break;
      continue;
    }
    while (head != tail) {
      io_uring_cqe* cqe = &cqes_[head & cq_mask_];
      auto* op = reinterpret_cast<RingOp*>(cqe->user_data);
      int res = cqe->res;
      head++;
      cq_head_->store(head, std::memory_order_release);
      Complete(op, res);
    }
  }
  reaping_ = false;
}

void Ring::Complete(RingOp* op, int res) {
  if (res < 0) return Finish(op, -res);
  if (op->syncing || op->kind == 0) {
    if (!op->syncing) op->done = res;
    return Finish(op, 0);
  }
  // A write: carry on after a short one, from where it stopped, as statIo does.
  size_t left = static_cast<size_t>(res);
  op->done += res;
  while (op->next < op->iov.size() && left >= op->iov[op->next].iov_len) left -= op->iov[op->next++].iov_len;
  if (left > 0) {
    op->iov[op->next].iov_base = static_cast<char*>(op->iov[op->next].iov_base) + left;
    op->iov[op->next].iov_len -= left;
  }
  bool more = res > 0 && op->next < op->iov.size();
  if (!more && op->sync != 0) op->syncing = true;
  if (more || op->syncing) {
    if (!Submit(op)) Finish(op, EAGAIN);
    return;
  }
  Finish(op, 0);
}

void Ring::Finish(RingOp* op, int err) {
  struct stat st;
  if (err == 0 && fstat(op->fd, &st) < 0) err = errno;
  if (err == 0) PutStat(st, op->out + kStatFields);
  napi_value value;
  if (err != 0) {
    // Named as statIo names them: the op, whichever of its calls failed.
    const char* syscall = op->kind == 0 ? "preadv" : "pwritev";
    napi_reject_deferred(env_, op->deferred, MakeSysError(env_, err, syscall, nullptr, ""));
  } else {
    napi_create_int64(env_, op->done, &value);
    napi_resolve_deferred(env_, op->deferred, value);
  }
  for (napi_ref ref : op->refs) napi_delete_reference(env_, ref);
  delete op;
  Withdrawn();
}

}  // namespace

// ringIo(fd, kind, buffers, position, sync, out: BigInt64Array(26)) → Promise<number> | undefined
// statIo's contract (see statio.cc); undefined: io_uring cannot take it, use statIo.
napi_value RingIo(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  int fd;
  int32_t kind, sync;
  int64_t position;
  if (!ReadArgs(env, info, 6, argv) || !ArgFd(env, argv[0], "fd", &fd) || !ArgInt32(env, argv[1], "kind", &kind) ||
      !ArgInt64(env, argv[3], "position", &position) || !ArgInt32(env, argv[4], "sync", &sync)) {
    return nullptr;
  }
  if ((kind != 0 && kind != 1) || sync < 0 || sync > 2 || position < 0) {
    return Fail(env, "ERR_OUT_OF_RANGE", "ringIo: bad kind, sync or position");
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
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  Ring* ring = Ring::Get(env);
  // A read of nothing has no IO for the ring to do; statIo handles it.
  if (ring == nullptr || count == 0) return undefined;

  auto* op = new RingOp();
  op->fd = fd;
  op->kind = kind;
  op->sync = sync;
  op->position = position;
  op->out = static_cast<int64_t*>(data);
  op->iov.resize(count);
  auto drop = [&]() {
    for (napi_ref ref : op->refs) napi_delete_reference(env, ref);
    delete op;
  };
  for (uint32_t i = 0; i < count; i++) {
    napi_value element;
    napi_ref ref;
    if (napi_get_element(env, argv[2], i, &element) != napi_ok ||
        !ArgBytes(env, element, "buffers[i]", &op->iov[i].iov_base, &op->iov[i].iov_len) ||
        napi_create_reference(env, element, 1, &ref) != napi_ok) {
      drop();
      return nullptr;
    }
    op->refs.push_back(ref);
  }
  napi_ref out_ref;
  if (napi_create_reference(env, argv[5], 1, &out_ref) != napi_ok) {
    drop();
    return nullptr;
  }
  op->refs.push_back(out_ref);
  napi_value promise;
  if (napi_create_promise(env, &op->deferred, &promise) != napi_ok) {
    drop();
    return nullptr;
  }
  if (kind == 1) {
    struct stat st;
    if (fstat(fd, &st) < 0) {
      napi_reject_deferred(env, op->deferred, MakeSysError(env, errno, "pwritev", nullptr, ""));
      drop();
      return promise;
    }
    PutStat(st, op->out);
  }
  ring->Started();
  if (!ring->Submit(op)) {
    // The deferred is never settled; the promise is collected with it.
    ring->Withdrawn();
    drop();
    return undefined;
  }
  ring->Reap();
  return promise;
}

}  // namespace gsys
