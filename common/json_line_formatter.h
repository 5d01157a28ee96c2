// JsonLineFormatter: the spdlog formatter of --log-format json. Each line is
// one JSON object:
//
//   {"ts":"2026-11-25T19:00:00.123+09:00","level":"info",<body>}\n
//
// where the body is what the logger was given. Bodies that start with '"'
// are JSON members already (server/log_events.h builds them: "event":…);
// any other body is a text line from a call site that has no JSON form (a
// notice, an error, a warning) and is wrapped here:
//   "event":"warning"|"error"|"notice"|"debug","message":"<text>"
// with "[tcp server] " taken off the text and, when the text names a peer as
// "ip=…, port=N", those as "ip" and "port" members. So every line of a JSON
// log parses, whoever logged it.
//
// Speed: like LineFormatter, the date and time up to the second (local time,
// with its UTC offset) is kept as text and rebuilt when the second changes;
// a line is a few appends.
#pragma once

#include <spdlog/formatter.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace uvframe {

/// --log-format: the classic text lines, or one JSON object per line.
enum class LogFormat : std::uint8_t { kText, kJson };

/// "text" or "json".
std::string_view toString(LogFormat format);

/// Formats one line; owned by one sink (not thread-safe, like spdlog's own).
class JsonLineFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;

 private:
  void wrapText(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest);

  long long cachedSeconds_ = -1;
  char date_[48] = {};  ///< {"ts":"2026-11-25T19:00:00.  for cachedSeconds_
  std::size_t dateBytes_ = 0;
  char offset_[8] = {};  ///< +09:00
};

}  // namespace uvframe
