// LogEvents: see log_events.h.
#include "log_events.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <iterator>

#include "json_text.h"

namespace uvframe {
namespace {

void appendPeerJson(std::string& out, const PeerAddress& peer) {
  appendJsonMember("ip", peer.ip, out);
  fmt::format_to(std::back_inserter(out), ",\"port\":{}", peer.port);
}

// The charsets whose printable ASCII bytes are those characters (iconv
// knows others, such as UTF-16, where they are not).
bool asciiIsItself(std::string_view encoding) {
  std::string name;
  for (char c : encoding)
    name.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (PayloadRenderer::isUtf8Name(name)) return true;
  for (std::string_view known : {"auto", "cp949", "euc-kr", "euckr", "uhc", "ascii", "us-ascii"}) {
    if (name == known) return true;
  }
  return name.starts_with("iso-8859-") || name.starts_with("windows-125") ||
         name.starts_with("cp125");
}

}  // namespace

LogEvents::LogEvents(LogFormat format, std::size_t maxLoggedBytes, std::string_view encoding)
    : format_(format), maxLoggedBytes_(maxLoggedBytes), asciiIsItself_(asciiIsItself(encoding)) {}

std::string LogEvents::messagePrefix(const PeerAddress& peer) const {
  if (!json()) return "[tcp/" + peer.hostPort() + "] ";
  std::string prefix = "\"event\":\"message\",";
  appendPeerJson(prefix, peer);
  prefix.append(",\"payload\":\"");
  return prefix;
}

void LogEvents::appendMessage(std::string& line, PayloadRenderer& renderer,
                              std::span<const std::byte> payload, std::size_t totalBytes) {
  if (!json()) {
    renderer.render(payload, line, totalBytes);
    return;
  }
  const std::size_t total = std::max(totalBytes, payload.size());
  // The common payload (printable ASCII, shown whole) is the same text raw,
  // rendered and in JSON: one scan and one append.
  if (asciiIsItself_ && total <= maxLoggedBytes_ && total == payload.size()) {
    std::string_view text(reinterpret_cast<const char*>(payload.data()), payload.size());
    if (isPlainAsciiForJson(text)) {
      line.append(text);
      line.push_back('"');
      return;
    }
  }
  scratch_.clear();
  renderer.render(payload, scratch_, totalBytes);
  std::string_view rendered = scratch_;
  // The renderer adds its " …(+K bytes)" note exactly when it cut the
  // payload; a payload that merely ends with such text is not cut.
  const bool cut = std::min(payload.size(), maxLoggedBytes_) < total;
  const std::size_t cutBytes = cut ? takeCutNote(rendered) : 0;
  const bool escaped = appendJsonPayload(rendered, line);
  line.push_back('"');
  if (escaped) line.append(",\"escaped\":true");
  if (cutBytes > 0) fmt::format_to(std::back_inserter(line), ",\"cut_bytes\":{}", cutBytes);
}

void LogEvents::appendConnected(std::string& out, const PeerAddress& peer,
                                const ConnectedDetails& d) const {
  if (json()) {
    out.append("\"event\":\"connected\",");
    appendPeerJson(out, peer);
    for (auto [name, value] : {std::pair<const char*, std::string_view>{"via", d.via},
                               {"tls", d.tlsVersion},
                               {"subject", d.tlsSubject}}) {
      if (value.empty()) continue;
      out.push_back(',');
      appendJsonMember(name, value, out);
    }
    return;
  }
  fmt::format_to(std::back_inserter(out), "[tcp server] client connected: ip={}, port={}", peer.ip,
                 peer.port);
  const char* separator = " (";
  for (auto [name, value] : {std::pair<const char*, std::string_view>{"via=", d.via},
                             {"tls=", d.tlsVersion},
                             {"subject=", d.tlsSubject}}) {
    if (value.empty()) continue;
    out.append(separator);
    out.append(name);
    // A certificate subject is the peer's text: render it safely.
    appendEscapedUtf8(std::as_bytes(std::span(value.data(), value.size())), out);
    separator = ", ";
  }
  if (separator[0] == ',') out.push_back(')');
}

void LogEvents::appendDisconnected(std::string& out, const PeerAddress& peer,
                                   const DisconnectedDetails& d) const {
  auto to = std::back_inserter(out);
  if (json()) {
    out.append("\"event\":\"disconnected\",");
    appendPeerJson(out, peer);
    out.push_back(',');
    appendJsonMember("reason", d.reason, out);
    fmt::format_to(to, ",\"frames\":{},\"bytes\":{},\"duration_s\":{:.3f}", d.frames, d.bytes,
                   d.durationSeconds);
    if (d.unfinishedBytes > 0) fmt::format_to(to, ",\"unfinished_bytes\":{}", d.unfinishedBytes);
    return;
  }
  fmt::format_to(to,
                 "[tcp server] client disconnected: ip={}, port={} (reason={}, frames={}, "
                 "bytes={}, duration={:.3f}s",
                 peer.ip, peer.port, d.reason, d.frames, d.bytes, d.durationSeconds);
  if (d.unfinishedBytes > 0) fmt::format_to(to, ", unfinished={} bytes", d.unfinishedBytes);
  out.push_back(')');
}

void LogEvents::appendListening(std::string& out, std::string_view address, std::uint16_t port,
                                std::string_view details) const {
  if (!json()) {
    fmt::format_to(std::back_inserter(out), "[tcp server] listening on {} ({})", address, details);
    return;
  }
  out.append("\"event\":\"listening\",");
  appendJsonMember("address", address, out);
  fmt::format_to(std::back_inserter(out), ",\"port\":{}", port);
  if (!details.empty()) out.push_back(',');
  appendKeyValuesAsJson(details, out);
}

void LogEvents::appendStats(std::string& out, std::string_view keyValues) const {
  if (!json()) {
    out.append("[tcp server] stats: ");
    out.append(keyValues);
    return;
  }
  out.append("\"event\":\"stats\"");
  if (!keyValues.empty()) out.push_back(',');
  appendKeyValuesAsJson(keyValues, out);
}

}  // namespace uvframe
