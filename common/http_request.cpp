// HTTP request-head parsing: see http_request.h.
#include "http_request.h"

#include <charconv>

namespace uvframe {
namespace {

// RFC 9110 section 5.6.2: tchar.
bool isTokenChar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool isToken(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (!isTokenChar(c)) return false;
  return true;
}

// A request-target byte: visible, not a space, not DEL (RFC 3986 is left to
// the handler, which only compares paths).
bool isTargetChar(unsigned char c) {
  return c > 0x20 && c != 0x7f;
}

// A field-value byte: visible, obs-text, space or tab.
bool isFieldValueChar(unsigned char c) {
  return c == '\t' || (c >= 0x20 && c != 0x7f);
}

HttpRequestHead malformed(std::string_view why) {
  HttpRequestHead h;
  h.status = HttpHeadStatus::kMalformed;
  h.error = why;
  return h;
}

// Checks the request line, filling method, target, path and version.
bool parseRequestLine(std::string_view line, HttpRequestHead& h) {
  std::size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) {
    h.error = "request line without spaces";
    return false;
  }
  std::size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) {
    h.error = "request line without a version";
    return false;
  }
  h.method = line.substr(0, sp1);
  h.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  h.version = line.substr(sp2 + 1);
  if (!isToken(h.method)) {
    h.error = "method is not a token";
    return false;
  }
  if (h.target.empty()) {
    h.error = "empty request target";
    return false;
  }
  for (unsigned char c : h.target) {
    if (!isTargetChar(c)) {
      h.error = "bad byte in the request target";
      return false;
    }
  }
  if (h.target != "*" && h.target.front() != '/') {
    h.error = "request target is not a path";
    return false;
  }
  if (h.version != "HTTP/1.1" && h.version != "HTTP/1.0") {
    h.error = "not HTTP/1.0 or HTTP/1.1";
    return false;
  }
  h.path = h.target.substr(0, h.target.find_first_of("?#"));
  return true;
}

bool parseHeaderLine(std::string_view line, HttpRequestHead& h) {
  if (line.front() == ' ' || line.front() == '\t') {
    h.error = "obsolete line folding";
    return false;
  }
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    h.error = "header line without a colon";
    return false;
  }
  if (!isToken(line.substr(0, colon))) {
    h.error = "header name is not a token";
    return false;
  }
  for (unsigned char c : line.substr(colon + 1)) {
    if (!isFieldValueChar(c)) {
      h.error = "control byte in a header value";
      return false;
    }
  }
  return true;
}

// True when an unfinished first line can still become a request line: no
// control bytes (a TLS ClientHello or binary junk is refused at once rather
// than after the deadline). A '\r' at the very end may be followed by '\n'.
bool plausiblePartialLine(std::string_view partial) {
  for (std::size_t i = 0; i < partial.size(); ++i) {
    auto c = static_cast<unsigned char>(partial[i]);
    if (c == '\r' && i + 1 == partial.size()) return true;
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

}  // namespace

HttpRequestHead parseHttpRequestHead(std::string_view bytes, std::size_t maxHeadBytes) {
  HttpRequestHead h;
  std::size_t pos = 0;
  bool sawRequestLine = false;
  while (true) {
    std::size_t nl = bytes.find('\n', pos);
    if (nl == std::string_view::npos) {
      std::string_view partial = bytes.substr(pos);
      if (!sawRequestLine && !plausiblePartialLine(partial)) {
        return malformed("control byte in the request line");
      }
      if (bytes.size() >= maxHeadBytes) {
        h.status = HttpHeadStatus::kTooLarge;
        return h;
      }
      h.status = HttpHeadStatus::kIncomplete;
      return h;
    }
    if (nl + 1 > maxHeadBytes) {
      h.status = HttpHeadStatus::kTooLarge;
      return h;
    }
    std::string_view line = bytes.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = nl + 1;
    if (line.find('\r') != std::string_view::npos) return malformed("stray CR");
    if (!sawRequestLine) {
      if (line.empty()) continue;  // empty lines before the request line
      if (!parseRequestLine(line, h)) return malformed(h.error);
      sawRequestLine = true;
      continue;
    }
    if (line.empty()) {
      h.status = HttpHeadStatus::kComplete;
      h.headBytes = pos;
      return h;
    }
    if (!parseHeaderLine(line, h)) return malformed(h.error);
  }
}

bool splitHostPort(std::string_view text, std::string& host, std::uint16_t& port,
                   std::string& error) {
  std::string_view hostPart;
  std::string_view portPart;
  if (!text.empty() && text.front() == '[') {
    std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      error = "expected [IPV6]:PORT";
      return false;
    }
    hostPart = text.substr(1, close - 1);
    portPart = text.substr(close + 2);
  } else {
    std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      error = "expected HOST:PORT";
      return false;
    }
    hostPart = text.substr(0, colon);
    portPart = text.substr(colon + 1);
    if (hostPart.find(':') != std::string_view::npos) {
      error = "an IPv6 address goes in brackets: [::1]:PORT";
      return false;
    }
  }
  if (hostPart.empty()) {
    error = "empty host";
    return false;
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(portPart.data(), portPart.data() + portPart.size(), value);
  if (portPart.empty() || portPart.size() > 5 || ec != std::errc() ||
      end != portPart.data() + portPart.size() || value > 65535) {
    error = "port must be a number from 0 to 65535";
    return false;
  }
  host.assign(hostPart);
  port = static_cast<std::uint16_t>(value);
  return true;
}

}  // namespace uvframe
