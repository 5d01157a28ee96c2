// CP949 conversion for the classic-client tests (glibc iconv).
#include "log_lines.h"

#include <iconv.h>

#include <stdexcept>

namespace uvframe::test {

std::string toCp949(const std::string& utf8) {
  iconv_t cd = iconv_open("CP949", "UTF-8");
  if (cd == reinterpret_cast<iconv_t>(-1)) throw std::runtime_error("iconv_open CP949 failed");
  std::string out(utf8.size() * 2 + 8, '\0');
  char* in = const_cast<char*>(utf8.data());
  std::size_t inLeft = utf8.size();
  char* o = out.data();
  std::size_t outLeft = out.size();
  std::size_t rc = iconv(cd, &in, &inLeft, &o, &outLeft);
  iconv_close(cd);
  if (rc == static_cast<std::size_t>(-1)) throw std::runtime_error("not convertible to CP949");
  out.resize(out.size() - outLeft);
  return out;
}

}  // namespace uvframe::test
