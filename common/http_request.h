// HTTP/1.x request-head parsing for the server's /metrics and /healthz
// responder (server/metrics_http.h), without sockets so it can be unit
// tested and fuzzed (tests/unit/http_request_test.cpp,
// tests/fuzz/fuzz_http_request.cpp).
//
// Only what a scraper's GET needs, strictly (RFC 9112 section 3 and 5):
//   request-line = method SP request-target SP HTTP-version CRLF
//   header-line  = field-name ":" OWS field-value OWS CRLF
//   head         = request-line *header-line CRLF
// A bare LF is accepted as a line end (RFC 9112 section 2.2); empty lines
// before the request line are skipped. The method is a token, the target
// origin-form ("/path?query") or "*", the version HTTP/1.0 or HTTP/1.1.
// Obsolete line folding, whitespace before a colon, control bytes and a
// missing colon are malformed. A body is never read: the responder answers
// and closes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace uvframe {

/// Largest request head the responder reads (request line plus headers).
inline constexpr std::size_t kMaxHttpHeadBytes = 8 * 1024;

enum class HttpHeadStatus : std::uint8_t {
  kIncomplete,  ///< no end of head yet, and under the size limit: read more
  kComplete,    ///< a well-formed head; see HttpRequestHead
  kMalformed,   ///< answer 400
  kTooLarge,    ///< the head passes the size limit: answer 431
};

/// The parts of a parsed head; views into the bytes given to the parser.
struct HttpRequestHead {
  HttpHeadStatus status = HttpHeadStatus::kIncomplete;
  std::string_view method;    ///< "GET"
  std::string_view target;    ///< "/metrics?x=1"
  std::string_view path;      ///< target without its query: "/metrics"
  std::string_view version;   ///< "HTTP/1.1"
  std::size_t headBytes = 0;  ///< bytes of the head, its final empty line included
  std::string_view error;     ///< why it is malformed (static text)
};

/// Parses the head at the start of bytes (bytes seen so far on the
/// connection). Incomplete until the empty line that ends the head; too large
/// when no head ends within maxHeadBytes.
HttpRequestHead parseHttpRequestHead(std::string_view bytes,
                                     std::size_t maxHeadBytes = kMaxHttpHeadBytes);

/// Splits "HOST:PORT" ("127.0.0.1:9100", "[::1]:9100", "localhost:9100";
/// port 0..65535, HOST not empty) for --metrics. False with a reason in
/// error when it is not of that form.
bool splitHostPort(std::string_view text, std::string& host, std::uint16_t& port,
                   std::string& error);

}  // namespace uvframe
