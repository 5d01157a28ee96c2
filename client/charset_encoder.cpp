// CharsetEncoder: see charset_encoder.h.
#include "charset_encoder.h"

#include <iconv.h>

#include <cerrno>
#include <stdexcept>

#include "payload_renderer.h"

namespace uvframe {

CharsetEncoder::CharsetEncoder(std::string_view encoding) : encoding_(encoding) {
  if (PayloadRenderer::isUtf8Name(encoding)) return;
  iconv_t cd = iconv_open(encoding_.c_str(), "UTF-8");
  if (cd == reinterpret_cast<iconv_t>(-1)) {
    throw std::invalid_argument("unknown encoding '" + encoding_ + "'");
  }
  iconv_ = cd;
}

CharsetEncoder::~CharsetEncoder() {
  if (iconv_ != nullptr) iconv_close(static_cast<iconv_t>(iconv_));
}

std::optional<std::string> CharsetEncoder::encode(std::string_view text, std::string& error) {
  if (iconv_ == nullptr) return std::string(text);
  auto cd = static_cast<iconv_t>(iconv_);
  iconv(cd, nullptr, nullptr, nullptr, nullptr);
  // Legacy multi-byte charsets never need more than 4 bytes per UTF-8 byte;
  // the loop still grows the buffer should iconv report E2BIG.
  std::string out(text.size() * 4 + 16, '\0');
  char* in = const_cast<char*>(text.data());
  std::size_t inLeft = text.size();
  char* dst = out.data();
  std::size_t outLeft = out.size();
  while (inLeft > 0) {
    if (iconv(cd, &in, &inLeft, &dst, &outLeft) != static_cast<std::size_t>(-1)) break;
    if (errno == E2BIG) {
      std::size_t used = out.size() - outLeft;
      out.resize(out.size() * 2);
      dst = out.data() + used;
      outLeft = out.size() - used;
      continue;
    }
    std::size_t offset = text.size() - inLeft;
    error = errno == EILSEQ
                ? "byte " + std::to_string(offset) + " starts invalid UTF-8 or a character that " +
                      encoding_ + " cannot encode"
                : "input ends in the middle of a UTF-8 character";
    return std::nullopt;
  }
  out.resize(out.size() - outLeft);
  return out;
}

}  // namespace uvframe
