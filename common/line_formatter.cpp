// LineFormatter: see line_formatter.h.
#include "line_formatter.h"

#include <spdlog/common.h>
#include <spdlog/details/log_msg.h>

#include <chrono>
#include <cstring>
#include <ctime>

namespace uvframe {

void LineFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  using std::chrono::duration_cast;
  auto sinceEpoch = msg.time.time_since_epoch();
  auto seconds = duration_cast<std::chrono::seconds>(sinceEpoch);
  if (seconds.count() != cachedSeconds_) {
    auto t = static_cast<std::time_t>(seconds.count());
    std::tm tm{};
#ifdef _WIN32
    localtime_s(&tm, &t);
#else
    localtime_r(&t, &tm);
#endif
    dateBytes_ = std::strftime(date_, sizeof date_, "[%Y-%m-%d %H:%M:%S.", &tm);
    cachedSeconds_ = seconds.count();
  }
  auto ms =
      static_cast<unsigned>(duration_cast<std::chrono::milliseconds>(sinceEpoch - seconds).count());
  spdlog::string_view_t level = spdlog::level::to_string_view(msg.level);

  char prefix[64];
  char* o = prefix;
  std::memcpy(o, date_, dateBytes_);
  o += dateBytes_;
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

std::unique_ptr<spdlog::formatter> LineFormatter::clone() const {
  return std::make_unique<LineFormatter>(*this);
}

}  // namespace uvframe
