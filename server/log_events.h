// LogEvents: the bodies of the server's log lines in the --log-format the
// operator chose, built in one place so text and JSON say the same thing.
//
//   event         text body (after spdlog's "[…] [info] ")
//   listening     [tcp server] listening on 0.0.0.0:9000 (k=v, …)
//   connected     [tcp server] client connected: ip=…, port=… (via=…)
//   message       [tcp/127.0.0.1:55244] <payload>
//   disconnected  [tcp server] client disconnected: ip=…, port=… (…)
//   stats         [tcp server] stats: k=v, …
//
//   event         JSON body (JsonLineFormatter adds "ts" and "level")
//   listening     "event":"listening","address":…,"port":N,k:v…
//   connected     "event":"connected","ip":…,"port":N,"via":…,"tls":…,"subject":…
//   message       "event":"message","ip":…,"port":N,"payload":…
//   disconnected  "event":"disconnected",…,"frames":N,"bytes":N,"duration_s":1.204
//   stats         "event":"stats",k:v… (numbers)
//
// Warnings and other lines stay text at their call sites; in JSON the
// formatter wraps them ("event":"warning","ip":…,"port":N,"message":…).
//
// A message line costs what it did: the per-connection part (text tag or
// JSON members up to "payload":") is made once per connection
// (messagePrefix), and a message appends the payload rendering to it. In
// JSON the payload goes through json_text.h (appendJsonPayload): valid text
// parses back exactly, the rest carries "escaped":true; a cut payload
// carries "cut_bytes":K instead of the text note.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "json_line_formatter.h"
#include "payload_renderer.h"
#include "peer_address.h"

namespace uvframe {

/// What the connected line says beyond the peer; empty fields are left out.
/// Text: " (via=…, tls=…, subject=…)" in that order; JSON: "via", "tls",
/// "subject".
struct ConnectedDetails {
  std::string_view via;         ///< the balancer's "ip:port" (PROXY protocol)
  std::string_view tlsVersion;  ///< "TLSv1.3"
  std::string_view tlsSubject;  ///< the client certificate's subject
};

/// The connection's story, for the disconnected line.
struct DisconnectedDetails {
  std::string_view reason;
  std::uint64_t frames = 0;
  std::uint64_t bytes = 0;
  double durationSeconds = 0;
  std::size_t unfinishedBytes = 0;  ///< 0: ended at a frame boundary
};

/// One per thread that logs (each worker, the control loop): holds a scratch
/// buffer for JSON payloads, so it is used by its owner's thread only.
class LogEvents {
 public:
  /// encoding: --payload-encoding; for the charsets where printable ASCII
  /// is itself, a payload of plain ASCII skips the renderer in JSON.
  explicit LogEvents(LogFormat format = LogFormat::kText,
                     std::size_t maxLoggedBytes = kDefaultMaxLoggedBytes,
                     std::string_view encoding = "utf-8");

  bool json() const { return format_ == LogFormat::kJson; }

  /// The part of every message line of this peer before the payload.
  std::string messagePrefix(const PeerAddress& peer) const;
  /// line holds messagePrefix(peer): appends the rendering of payload (of
  /// totalBytes in all, 0: payload.size()) and whatever closes the body.
  void appendMessage(std::string& line, PayloadRenderer& renderer,
                     std::span<const std::byte> payload, std::size_t totalBytes);

  void appendConnected(std::string& out, const PeerAddress& peer,
                       const ConnectedDetails& details) const;
  void appendDisconnected(std::string& out, const PeerAddress& peer,
                          const DisconnectedDetails& details) const;
  /// address "0.0.0.0:9000"; details "workers=2, accept=reuseport, …".
  void appendListening(std::string& out, std::string_view address, std::uint16_t port,
                       std::string_view details) const;
  /// keyValues "connections=0, accepted=1, …, uptime=8.9s, final=true".
  void appendStats(std::string& out, std::string_view keyValues) const;

 private:
  LogFormat format_;
  std::size_t maxLoggedBytes_;
  bool asciiIsItself_;   // printable ASCII payload bytes decode to themselves
  std::string scratch_;  // the text rendering of a payload, before JSON
};

}  // namespace uvframe
