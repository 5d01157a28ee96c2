// Unit tests for common/line_formatter: byte-identical to spdlog's
// pattern_formatter with uvframe's pattern, for every level and across
// second and millisecond boundaries.
#include "line_formatter.h"

#include <gtest/gtest.h>
#include <spdlog/details/log_msg.h>
#include <spdlog/pattern_formatter.h>

#include <string>

#include "block_sink.h"

namespace uvframe {
namespace {

std::string formatWith(spdlog::formatter& f, const spdlog::details::log_msg& msg) {
  spdlog::memory_buf_t out;
  f.format(msg, out);
  return std::string(out.data(), out.size());
}

TEST(LineFormatter, MatchesSpdlogPatternForEveryLevelAndTime) {
  LineFormatter mine;
  spdlog::pattern_formatter reference(kLogPattern, spdlog::pattern_time_type::local,
                                      std::string(spdlog::details::os::default_eol));
  auto base = spdlog::log_clock::now();
  const spdlog::level::level_enum levels[] = {spdlog::level::trace, spdlog::level::debug,
                                              spdlog::level::info,  spdlog::level::warn,
                                              spdlog::level::err,   spdlog::level::critical};
  // Steps of 7 ms over several seconds cross second boundaries with every
  // millisecond digit pattern.
  for (int step = 0; step < 1000; ++step) {
    auto when = base + std::chrono::milliseconds(7 * step);
    for (auto level : levels) {
      spdlog::details::log_msg msg(when, spdlog::source_loc{}, "server", level,
                                   "[tcp/127.0.0.1:55244] payload");
      ASSERT_EQ(formatWith(mine, msg), formatWith(reference, msg)) << "step " << step;
    }
  }
}

TEST(LineFormatter, CloneFormatsTheSame) {
  LineFormatter mine;
  auto copy = mine.clone();
  spdlog::details::log_msg msg(spdlog::log_clock::now(), spdlog::source_loc{}, "server",
                               spdlog::level::info, "hello");
  EXPECT_EQ(formatWith(mine, msg), formatWith(*copy, msg));
}

}  // namespace
}  // namespace uvframe
