// TlsSession: one connection's TLS state, driven purely by bytes. The caller
// feeds what it received from the network, takes the ciphertext to send, and
// reads and writes plaintext; OpenSSL never touches a descriptor.
//
// Why memory buffers: libuv owns the socket and the event loop (reads arrive
// in callbacks into buffers the server chose, writes go out with uv_try_write
// / uv_write), so OpenSSL must not call read(2)/write(2) itself. The SSL
// object gets two BIOs over byte queues the session owns (tls_bio.h; not
// BIO_s_mem, whose zero-filling, cleansing and moving cost more than the
// encryption): the input queue holds received ciphertext until OpenSSL has
// consumed whole records, the output queue collects what OpenSSL wants sent
// (handshake flights, alerts, records, close_notify). Neither ever blocks:
// the input says "retry" when empty, the output grows. So there is no
// SSL_ERROR_WANT_WRITE here, and "needs more" always means "feed me".
//
// How bytes flow in the server (server/connection_tls.cpp):
//   socket -> libuv read into ciphertextRoom() -> commitCiphertext(n)
//          -> readPlaintext(ring.prepareWrite()) -> ring.commit(n) -> frame decoder
// (feedCiphertext(bytes) is the same with a copy, for bytes read elsewhere.)
// readPlaintext decrypts straight into the caller's span, so the receive ring
// (common/ring_buffer.h) and everything after it stay as they are: the ring's
// writable tail is where the plaintext lands, frames are still parsed in place
// and there is no extra copy per frame. The caller should stop feeding while
// bufferedCiphertext() is large and its ring is full (TCP then pushes back).
//   echo/replies -> writePlaintext(bytes) -> pendingCiphertext() -> uv_try_write
//                -> consumeCiphertext(n), and takeCiphertext() for the rest (uv_write
//                   needs bytes that stay put; the output queue may move when it grows)
// After every feedCiphertext/readPlaintext, send what pendingCiphertext() holds:
// the handshake, TLS 1.3 tickets, key-update replies and alerts appear there.
//
// States: kHandshaking -> kOpen -> kPeerClosed (close_notify received; we may
// still write, then shutdown()) or kFailed at any point (reason kept; a fatal
// alert for the peer may be pending: send it, then close). TLS 1.3 note: a
// client finishes its handshake before the server has checked its
// certificate; a refusal reaches the client as an alert on its next
// readPlaintext. No plaintext is ever returned before the handshake is done
// (0-RTT early data is not enabled).
//
// Failure reasons are OpenSSL's words: failureReason() the short reason of
// the first error ("wrong version number", "http request", "peer did not
// return a certificate", "certificate verify failed: certificate has
// expired", "tlsv1 alert unknown ca"), failureDetail() every queued error via
// ERR_error_string_n, verifyResult() X509_verify_cert_error_string.
// OpenSSL's error queue is per thread and shared by all sessions of a worker,
// so each call clears it before and drains it after.
//
// Idle memory: what an idle server session holds after the handshake and
// some traffic (tls_session_test's IdleSessionMemory: bytes OpenSSL frees
// when the session is destroyed, counted with CRYPTO_set_mem_functions, the
// byte queues' blocks included; OpenSSL 3.0.19, TLS 1.3, EC P-256
// certificate, X25519, AES-128-GCM):
//                                               100 B each way   1 MiB each way
//   no SSL_MODE_RELEASE_BUFFERS                    48,266           48,572
//   SSL_MODE_RELEASE_BUFFERS                       14,969           15,276
//   either, then releaseBuffers()                  13,868           13,868
// So the mode saves OpenSSL's two ~17 KiB record buffers (read and write)
// per connection; what stays is the SSL object itself (7.6 KB), the two
// AES-GCM record contexts (1.9 KB), the SSL_SESSION (0.9 KB), the SSL's copy
// of the certificate settings (0.5 KB), locks and digest contexts.
// releaseBuffers() drops a further ~1.1 KB: the byte queues' idle blocks.
// A queue never shrinks by itself (without the shedding, a 1 MiB write would
// leave a 1 MiB block behind after it was sent), so a drained queue bigger
// than 34 KiB gives its block back at once (the 1 MiB column). Add
// sizeof(TlsSession), 176 B. The plaintext connection costs about 768 B idle
// (README), so TLS makes an idle peer about 20 times dearer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tls_bio.h"

// OpenSSL's own forward declaration (openssl/types.h).
typedef struct ssl_st SSL;

namespace uvframe {

class TlsContext;

enum class TlsState : std::uint8_t {
  kHandshaking,  ///< needs more bytes from the peer (or, client, to send its hello)
  kOpen,         ///< handshake done: plaintext both ways
  kPeerClosed,   ///< the peer sent close_notify: nothing more to read; writing still works
  kFailed,       ///< fatal: see failureReason(); send pendingCiphertext() (an alert), close
};

std::string_view toString(TlsState state);

class TlsSession {
 public:
  /// A server or client session, as the context is. A client checks the
  /// server's certificate against serverName (or the context's serverName
  /// when empty): a DNS name is also sent as SNI, an IP address is matched
  /// against the certificate's IP SANs. A session that cannot be created
  /// (out of memory) starts in kFailed.
  explicit TlsSession(const TlsContext& context, std::string_view serverName = {});
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  TlsState state() const { return state_; }
  bool handshakeDone() const {
    return state_ == TlsState::kOpen || state_ == TlsState::kPeerClosed;
  }

  /// Advances the handshake with the bytes fed so far. A client calls it
  /// once to queue its ClientHello; the rest happens in feedCiphertext.
  TlsState handshake();

  /// Takes all of bytes (received from the peer) and advances the handshake.
  /// Plaintext is not decrypted here: call readPlaintext until it returns 0.
  TlsState feedCiphertext(std::span<const std::byte> bytes);
  /// The same without the copy: room for up to n received bytes in the
  /// session's own input queue (a socket reads into it; empty if out of
  /// memory), then commitCiphertext(bytes read). The room is valid until the
  /// next call of any other method.
  std::span<std::byte> ciphertextRoom(std::size_t n);
  TlsState commitCiphertext(std::size_t n);
  /// Received ciphertext OpenSSL has not consumed yet (a partial record, or
  /// records waiting for readPlaintext).
  std::size_t bufferedCiphertext() const;
  /// Whether readPlaintext may have something: received ciphertext not yet
  /// consumed, or a decrypted record not yet read whole.
  bool hasInput() const;

  /// Decrypts into `into` as much as is available and fits; returns the byte
  /// count. 0: nothing now (see state(): more bytes needed, peer closed, or
  /// failed). Always 0 before the handshake is done.
  std::size_t readPlaintext(std::span<std::byte> into);

  /// Encrypts all of bytes into records (at most 16 KiB each) queued for
  /// sending. False when the session is not open or has sent close_notify.
  bool writePlaintext(std::span<const std::byte> bytes);
  /// The same, with the records appended to `into` instead of the session's
  /// own output (after whatever that held, which moves there first, so the
  /// order is kept): a caller that keeps each write's ciphertext in a buffer
  /// of its own until the socket took it (the load generator's batches)
  /// needs no copy.
  bool writePlaintext(std::span<const std::byte> bytes, TlsByteQueue& into);

  /// Queues close_notify (once; only after the handshake). Nothing can be
  /// written after it; reading goes on until the peer's close_notify.
  void shutdown();
  bool closeNotifySent() const { return shutdownSent_; }

  /// Ciphertext waiting to be sent, in place: valid until the next call of
  /// any other method of this session.
  std::span<const std::byte> pendingCiphertext() const;
  /// Drops the first n bytes of pendingCiphertext() (they were sent).
  void consumeCiphertext(std::size_t n);
  /// Moves all pending ciphertext out.
  std::vector<std::byte> takeCiphertext();

  /// Gives back what an idle connection does not need: OpenSSL's record
  /// buffers (SSL_free_buffers) and the two byte queues' blocks, each only
  /// if empty. Call it when the connection goes quiet (where the ring gives
  /// its block back). True if everything was released.
  /// SSL_MODE_RELEASE_BUFFERS (on by default in TlsContext) already frees the
  /// record buffers after each read/write; the queues' blocks (up to 34 KiB
  /// each) are only freed here.
  bool releaseBuffers();

  /// After the handshake: "TLSv1.3" or "TLSv1.2" (SSL_get_version), the
  /// cipher suite, and the peer certificate's subject as RFC 2253 text
  /// ("CN=client-7"; non-ASCII bytes escaped as \XX), "" without one.
  std::string_view version() const;
  std::string_view cipher() const;
  std::string peerSubject() const;

  /// Why the session failed (empty unless kFailed); see the header comment.
  const std::string& failureReason() const { return failureReason_; }
  const std::string& failureDetail() const { return failureDetail_; }
  const std::string& verifyResult() const { return verifyResult_; }

  /// The OpenSSL object (tests, diagnostics). nullptr if creation failed.
  SSL* native() const { return ssl_; }

 private:
  void fail(int sslError, const char* what);
  static void shedBigDrainedQueue(TlsByteQueue& queue);

  SSL* ssl_ = nullptr;
  TlsByteQueue in_;   ///< received ciphertext; ssl_'s read BIO reads it
  TlsByteQueue out_;  ///< ciphertext to send; ssl_'s write BIO fills it
  TlsState state_ = TlsState::kHandshaking;
  bool shutdownSent_ = false;
  std::string failureReason_;
  std::string failureDetail_;
  std::string verifyResult_;
};

}  // namespace uvframe
