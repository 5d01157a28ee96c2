// Experiment (not used by the product): a hand-written spdlog::formatter for
// uvframe's one pattern, "[%Y-%m-%d %H:%M:%S.%e] [%l] %v" + newline.
//
// spdlog's pattern_formatter runs one virtual flag formatter per field (nine
// for this pattern) and appends each piece separately. This one keeps the
// date and time up to the second as text, rebuilt once a second, and writes a
// line as three appends: the prefix (cached date + milliseconds + level), the
// payload and the newline. bench_log_line measures it behind the same
// BlockSink (logger->set_formatter) against spdlog's pattern formatter; if it
// wins, it belongs in common/block_sink as the formatter makeBlockLogger sets.
#pragma once

#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <memory>

namespace uvframe::bench {

class ExpLineFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    using std::chrono::duration_cast;
    auto sinceEpoch = msg.time.time_since_epoch();
    auto secs = duration_cast<std::chrono::seconds>(sinceEpoch);
    if (secs.count() != cachedSecs_) {
      std::time_t t = static_cast<std::time_t>(secs.count());
      std::tm tm{};
      ::localtime_r(&t, &tm);
      dateLen_ = std::strftime(date_, sizeof date_, "[%Y-%m-%d %H:%M:%S.", &tm);
      cachedSecs_ = secs.count();
    }
    auto ms =
        static_cast<unsigned>(duration_cast<std::chrono::milliseconds>(sinceEpoch - secs).count());
    spdlog::string_view_t level = spdlog::level::to_string_view(msg.level);
    char prefix[64];
    char* o = prefix;
    std::memcpy(o, date_, dateLen_);
    o += dateLen_;
    *o++ = static_cast<char>('0' + ms / 100);
    *o++ = static_cast<char>('0' + ms / 10 % 10);
    *o++ = static_cast<char>('0' + ms % 10);
    std::memcpy(o, "] [", 3);
    o += 3;
    std::memcpy(o, level.data(), level.size());
    o += level.size();
    std::memcpy(o, "] ", 2);
    o += 2;
    dest.append(prefix, o);
    dest.append(msg.payload.begin(), msg.payload.end());
    dest.push_back('\n');
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<ExpLineFormatter>(*this);
  }

 private:
  long long cachedSecs_ = -1;
  char date_[32] = {};
  std::size_t dateLen_ = 0;
};

}  // namespace uvframe::bench
