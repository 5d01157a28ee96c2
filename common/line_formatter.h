// LineFormatter: spdlog formatter for uvframe's one log pattern,
// "[%Y-%m-%d %H:%M:%S.%e] [%l] %v" and a newline, written by hand.
//
// Why not spdlog's pattern_formatter: it runs one virtual flag formatter per
// field (nine for this pattern) and appends each piece on its own. With every
// message logged, that was about half of the per-line cost. This one keeps
// the local date and time up to the second as text (rebuilt when the second
// changes) and writes a line as three appends: prefix, message, newline.
// bench_log_line checks that its output is byte-identical to the pattern's.
#pragma once

#include <spdlog/formatter.h>

#include <cstddef>
#include <memory>

namespace uvframe {

/// Formats one line; owned by one sink (not thread-safe, like spdlog's own).
class LineFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;

 private:
  long long cachedSeconds_ = -1;
  char date_[32] = {};  ///< "[2026-11-25 19:00:00." for cachedSeconds_
  std::size_t dateBytes_ = 0;
};

}  // namespace uvframe
