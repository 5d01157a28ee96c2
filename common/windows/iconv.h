// <iconv.h> for Windows builds without libiconv (UVFRAME_WINDOWS_CODE_PAGES,
// the MinGW cross build of scripts/build-windows.sh): the three iconv calls
// uvframe makes (payload_renderer.cpp decodes payloads to UTF-8,
// charset_encoder.cpp encodes UTF-8 for the client), done with the system's
// code pages, MultiByteToWideChar and WideCharToMultiByte. So the callers are
// the same on every platform; only this header and code_page_windows.cpp
// differ. See code_page_windows.cpp for the names known and how the errors
// map onto iconv's (EILSEQ, EINVAL, E2BIG).
#pragma once

#include <cstddef>

typedef void* iconv_t;

/// A converter from fromcode to tocode (charset names as iconv spells them:
/// "UTF-8", "CP949", "EUC-KR", "windows-1252", "ISO-8859-1", "CP<n>" …);
/// (iconv_t)-1 and errno = EINVAL when the system has no such code page.
iconv_t iconv_open(const char* tocode, const char* fromcode);

/// As POSIX iconv: converts whole characters, advancing the four arguments;
/// (size_t)-1 with errno EILSEQ (an invalid or unconvertible character at
/// *inbuf), EINVAL (an incomplete character ends the input) or E2BIG (no room
/// for the next character). The converters keep no state between calls, so
/// a null inbuf (reset, flush) does nothing and returns 0.
std::size_t iconv(iconv_t cd, char** inbuf, std::size_t* inbytesleft, char** outbuf,
                  std::size_t* outbytesleft);

int iconv_close(iconv_t cd);
