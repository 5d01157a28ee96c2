// iconv on Windows code pages: see windows/iconv.h. One character at a time:
// its bytes in the source code page are found (UTF-8 by its lead byte, a
// double-byte code page such as CP949 by IsDBCSLeadByteEx), turned into
// UTF-16 with MultiByteToWideChar(MB_ERR_INVALID_CHARS), then into the target
// code page with WideCharToMultiByte; a character the target cannot hold
// (the default character would be used) is EILSEQ, as with iconv.
//
// Names: UTF-8; CP949 = UHC = EUC-KR (Windows has no strict EUC-KR decoder in
// every version, and EUC-KR is a subset of CP949); Shift_JIS, GBK, GB18030,
// Big5, EUC-JP, KOI8-R/U, ISO-8859-n, US-ASCII; CP<n>, windows-<n>, IBM<n>
// and MS<n> for any code page number the system knows (IsValidCodePage).
#include "iconv.h"

#include <windows.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace {

struct Converter {
  unsigned from;
  unsigned to;
  bool fromDoubleByte;
};

std::string lowered(const char* name) {
  std::string s;
  for (const char* p = name; *p != '\0'; ++p) {
    s.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(*p))));
  }
  return s;
}

unsigned numberAfter(const std::string& name, std::string_view prefix) {
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return 0;
  unsigned n = 0;
  for (std::size_t i = prefix.size(); i < name.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(name[i])) || n > 100000) return 0;
    n = n * 10 + static_cast<unsigned>(name[i] - '0');
  }
  return n;
}

/// The code page of an iconv charset name, or 0.
unsigned codePageOf(const char* charset) {
  const std::string name = lowered(charset);
  struct Named {
    const char* name;
    unsigned codePage;
  };
  static const Named kNames[] = {
      {"utf-8", CP_UTF8},
      {"utf8", CP_UTF8},
      {"cp949", 949},
      {"uhc", 949},
      {"euc-kr", 949},
      {"euckr", 949},
      {"ks_c_5601-1987", 949},
      {"shift_jis", 932},
      {"shift-jis", 932},
      {"sjis", 932},
      {"windows-31j", 932},
      {"gbk", 936},
      {"gb2312", 936},
      {"euc-cn", 936},
      {"gb18030", 54936},
      {"big5", 950},
      {"big-5", 950},
      {"euc-jp", 20932},
      {"koi8-r", 20866},
      {"koi8-u", 21866},
      {"us-ascii", 20127},
      {"ascii", 20127},
      {"ansi_x3.4-1968", 20127},
      {"latin1", 28591},
      {"latin-1", 28591},
  };
  for (const Named& n : kNames) {
    if (name == n.name) return n.codePage;
  }
  for (std::string_view prefix : {"iso-8859-", "iso8859-", "iso_8859-"}) {
    if (unsigned n = numberAfter(name, prefix); n >= 1 && n <= 16) return 28590 + n;
  }
  for (std::string_view prefix : {"cp", "windows-", "ibm", "ms"}) {
    if (unsigned n = numberAfter(name, prefix)) return n;
  }
  return 0;
}

bool isUtf8Continuation(unsigned char b) {
  return (b & 0xC0) == 0x80;
}

/// The byte length of the character at p (at most `left` bytes there): > 0,
/// or -EILSEQ / -EINVAL (incomplete at the end of the input).
int characterLength(const Converter& c, const unsigned char* p, std::size_t left) {
  std::size_t need = 1;
  if (c.from == CP_UTF8) {
    const unsigned char b = p[0];
    if (b < 0x80) return 1;
    if (b >= 0xC2 && b <= 0xDF) {
      need = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
      need = 3;
    } else if (b >= 0xF0 && b <= 0xF4) {
      need = 4;
    } else {
      return -EILSEQ;
    }
    for (std::size_t i = 1; i < std::min(need, left); ++i) {
      if (!isUtf8Continuation(p[i])) return -EILSEQ;
    }
  } else if (c.fromDoubleByte && IsDBCSLeadByteEx(c.from, p[0])) {
    need = 2;
  }
  return left < need ? -EINVAL : static_cast<int>(need);
}

std::size_t fail(int error) {
  errno = error;
  return static_cast<std::size_t>(-1);
}

}  // namespace

iconv_t iconv_open(const char* tocode, const char* fromcode) {
  const unsigned to = codePageOf(tocode);
  const unsigned from = codePageOf(fromcode);
  if (to == 0 || from == 0 || !IsValidCodePage(to) || !IsValidCodePage(from)) {
    errno = EINVAL;
    return reinterpret_cast<iconv_t>(-1);
  }
  CPINFO info{};
  const bool doubleByte = from != CP_UTF8 && GetCPInfo(from, &info) && info.MaxCharSize == 2;
  return new Converter{from, to, doubleByte};
}

std::size_t iconv(iconv_t cd, char** inbuf, std::size_t* inbytesleft, char** outbuf,
                  std::size_t* outbytesleft) {
  if (inbuf == nullptr || *inbuf == nullptr) return 0;  // no state to reset or flush
  const Converter& c = *static_cast<const Converter*>(cd);
  while (*inbytesleft > 0) {
    const auto* p = reinterpret_cast<const unsigned char*>(*inbuf);
    const int length = characterLength(c, p, *inbytesleft);
    if (length < 0) return fail(-length);
    wchar_t wide[4];
    const int wideCount = MultiByteToWideChar(c.from, MB_ERR_INVALID_CHARS, *inbuf, length, wide,
                                              static_cast<int>(std::size(wide)));
    if (wideCount <= 0) return fail(EILSEQ);
    // Windows passes a byte a double-byte code page leaves undefined (0x80 in
    // CP949) through as the C1 control of the same value; iconv calls it
    // invalid, and so does this.
    if (c.fromDoubleByte && length == 1 && wide[0] >= 0x80 && wide[0] <= 0x9F) {
      return fail(EILSEQ);
    }
    char bytes[16];
    BOOL usedDefault = FALSE;
    int count = 0;
    if (c.to == CP_UTF8) {
      count = WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, wide, wideCount, bytes,
                                  sizeof bytes, nullptr, nullptr);
    } else {
      count = WideCharToMultiByte(c.to, WC_NO_BEST_FIT_CHARS, wide, wideCount, bytes, sizeof bytes,
                                  nullptr, &usedDefault);
      if (count <= 0 && GetLastError() == ERROR_INVALID_FLAGS) {
        count = WideCharToMultiByte(c.to, 0, wide, wideCount, bytes, sizeof bytes, nullptr,
                                    &usedDefault);
      }
    }
    if (count <= 0 || usedDefault) return fail(EILSEQ);
    if (static_cast<std::size_t>(count) > *outbytesleft) return fail(E2BIG);
    std::memcpy(*outbuf, bytes, static_cast<std::size_t>(count));
    *outbuf += count;
    *outbytesleft -= static_cast<std::size_t>(count);
    *inbuf += length;
    *inbytesleft -= static_cast<std::size_t>(length);
  }
  return 0;
}

int iconv_close(iconv_t cd) {
  delete static_cast<Converter*>(cd);
  return 0;
}
