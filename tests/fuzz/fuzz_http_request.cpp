// libFuzzer target for parseHttpRequestHead (common/http_request.h), the
// parser in front of the server's /metrics and /healthz responder.
// Properties: it never reads outside its input (ASan); a complete head has a
// token method, a target that is "*" or starts with '/', a version of
// HTTP/1.0 or HTTP/1.1, views inside the input and a length within the
// limit; and feeding the same bytes in two pieces never changes the verdict
// for the whole (the responder parses what it has read so far, again and
// again): every prefix of a complete head is incomplete or complete with
// the same length, never malformed or too large.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http_request.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

bool inside(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace uvframe;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  // A small limit too, so the too-large paths are reached often.
  for (std::size_t limit : {kMaxHttpHeadBytes, std::size_t{64}}) {
    HttpRequestHead h = parseHttpRequestHead(bytes, limit);
    if (h.status == HttpHeadStatus::kComplete) {
      check(h.headBytes > 0 && h.headBytes <= bytes.size() && h.headBytes <= limit);
      check(!h.method.empty() && inside(h.method, bytes));
      check(inside(h.target, bytes) && inside(h.path, bytes));
      check(h.target == "*" || (!h.path.empty() && h.path.front() == '/'));
      check(h.version == "HTTP/1.1" || h.version == "HTTP/1.0");
      // The head parses the same on its own.
      HttpRequestHead alone = parseHttpRequestHead(bytes.substr(0, h.headBytes), limit);
      check(alone.status == HttpHeadStatus::kComplete && alone.headBytes == h.headBytes);
      // Every prefix: still incomplete, never refused.
      std::size_t cut = size > 0 ? data[0] % h.headBytes : 0;
      HttpRequestHead prefix = parseHttpRequestHead(bytes.substr(0, cut), limit);
      check(prefix.status == HttpHeadStatus::kIncomplete);
    } else if (h.status == HttpHeadStatus::kMalformed) {
      check(!h.error.empty());
    } else if (h.status == HttpHeadStatus::kIncomplete) {
      check(bytes.size() < limit);
    }
  }
  return 0;
}
