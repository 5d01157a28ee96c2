// TlsByteQueue and its BIO: see tls_bio.h.
#include "tls_bio.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>

namespace uvframe {

namespace {

// The first block is what the first write needs (a handshake flight, or the
// room for one socket read); then blocks double up to kDoubleUpTo and past
// that grow to what is needed (TlsSession gives a big drained block back).
constexpr std::size_t kDoubleUpTo = 64 * 1024;

TlsByteQueue& queueOf(BIO* bio) {
  return *static_cast<TlsByteQueue*>(BIO_get_data(bio));
}

int queueWrite(BIO* bio, const char* bytes, std::size_t n, std::size_t* written) {
  BIO_clear_retry_flags(bio);
  if (!queueOf(bio).append(bytes, n)) {
    *written = 0;
    return 0;
  }
  *written = n;
  return 1;
}

int queueRead(BIO* bio, char* into, std::size_t n, std::size_t* got) {
  BIO_clear_retry_flags(bio);
  *got = queueOf(bio).read(into, n);
  if (*got == 0 && n > 0) {
    BIO_set_retry_read(bio);  // empty: "feed me", never EOF
    return 0;
  }
  return 1;
}

long queueCtrl(BIO* bio, int cmd, long, void*) {
  switch (cmd) {
    case BIO_CTRL_PENDING:
      return static_cast<long>(queueOf(bio).size());
    case BIO_CTRL_RESET:
      queueOf(bio).drop(queueOf(bio).size());
      return 1;
    case BIO_CTRL_FLUSH:
    case BIO_CTRL_DUP:
      return 1;
    default:  // BIO_CTRL_EOF, BIO_CTRL_WPENDING, kTLS queries, ...: no
      return 0;
  }
}

int queueCreate(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

int queueDestroy(BIO*) {
  return 1;  // the queue belongs to the session
}

BIO_METHOD* makeMethod() {
  BIO_METHOD* method =
      BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "uvframe byte queue");
  if (method == nullptr) return nullptr;
  if (BIO_meth_set_write_ex(method, queueWrite) != 1 ||
      BIO_meth_set_read_ex(method, queueRead) != 1 || BIO_meth_set_ctrl(method, queueCtrl) != 1 ||
      BIO_meth_set_create(method, queueCreate) != 1 ||
      BIO_meth_set_destroy(method, queueDestroy) != 1) {
    BIO_meth_free(method);
    return nullptr;
  }
  return method;
}

}  // namespace

TlsByteQueue::~TlsByteQueue() {
  OPENSSL_free(data_);
}

bool TlsByteQueue::append(const void* bytes, std::size_t n) {
  if (n == 0) return true;
  std::span<std::byte> room = prepare(n);
  if (room.empty()) return false;
  std::memcpy(room.data(), bytes, n);
  commit(n);
  return true;
}

std::span<std::byte> TlsByteQueue::prepare(std::size_t n) {
  if (capacity_ - end_ < n) {
    std::size_t live = size();
    if (capacity_ - live >= n) {
      // Room enough once the taken bytes are gone: move the rest to the front.
      std::memmove(data_, data_ + begin_, live);
    } else {
      std::size_t grown = capacity_ < kDoubleUpTo ? 2 * capacity_ : 0;
      grown = std::max(grown, live + n);
      auto* fresh = static_cast<std::byte*>(OPENSSL_malloc(grown));
      if (fresh == nullptr) return {};
      if (live > 0) std::memcpy(fresh, data_ + begin_, live);
      OPENSSL_free(data_);
      data_ = fresh;
      capacity_ = grown;
    }
    begin_ = 0;
    end_ = live;
  }
  return {data_ + end_, n};
}

std::size_t TlsByteQueue::read(void* into, std::size_t n) {
  n = std::min(n, size());
  if (n > 0) std::memcpy(into, data_ + begin_, n);
  drop(n);
  return n;
}

void TlsByteQueue::drop(std::size_t n) {
  begin_ += std::min(n, size());
  if (begin_ == end_) begin_ = end_ = 0;  // drained: the next write starts at the front
}

bool TlsByteQueue::release() {
  if (!empty()) return false;
  OPENSSL_free(data_);
  data_ = nullptr;
  capacity_ = 0;
  return true;
}

BIO* newQueueBio(TlsByteQueue& queue) {
  // Made once for the process and never freed (BIO methods are immutable and
  // shared by every thread).
  static BIO_METHOD* const method = makeMethod();
  if (method == nullptr) return nullptr;
  BIO* bio = BIO_new(method);
  if (bio != nullptr) BIO_set_data(bio, &queue);
  return bio;
}

}  // namespace uvframe
