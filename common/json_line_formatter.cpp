// JsonLineFormatter: see json_line_formatter.h.
#include "json_line_formatter.h"

#include <spdlog/common.h>
#include <spdlog/details/log_msg.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <string>

#include "json_text.h"

namespace uvframe {
namespace {

std::string_view eventOfLevel(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "notice";
    case spdlog::level::warn:
      return "warning";
    default:
      return "error";
  }
}

// The first "ip=<ip>, port=<digits>" of text: the peer a warning is about.
bool findPeer(std::string_view text, std::string_view& ip, std::string_view& port) {
  std::size_t at = text.find("ip=");
  while (at != std::string_view::npos) {
    if (at == 0 || text[at - 1] == ' ' || text[at - 1] == '(') {
      std::size_t comma = text.find(", port=", at);
      if (comma != std::string_view::npos) {
        std::size_t digits = comma + 7;
        std::size_t end = digits;
        while (end < text.size() && end - digits < 5 && text[end] >= '0' && text[end] <= '9')
          ++end;
        ip = text.substr(at + 3, comma - at - 3);
        port = text.substr(digits, end - digits);
        if (!port.empty() && ip.find(' ') == std::string_view::npos) return true;
      }
    }
    at = text.find("ip=", at + 1);
  }
  return false;
}

}  // namespace

std::string_view toString(LogFormat format) {
  return format == LogFormat::kJson ? "json" : "text";
}

void JsonLineFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
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
    dateBytes_ = std::strftime(date_, sizeof date_, "{\"ts\":\"%Y-%m-%dT%H:%M:%S.", &tm);
    // %z is "+0900"; ISO 8601 extended form wants "+09:00".
    char zone[16] = {};
    if (std::strftime(zone, sizeof zone, "%z", &tm) == 5) {
      offset_[0] = zone[0];
      offset_[1] = zone[1];
      offset_[2] = zone[2];
      offset_[3] = ':';
      offset_[4] = zone[3];
      offset_[5] = zone[4];
      offset_[6] = '\0';
    } else {
      std::memcpy(offset_, "Z", 2);
    }
    cachedSeconds_ = seconds.count();
  }
  auto ms =
      static_cast<unsigned>(duration_cast<std::chrono::milliseconds>(sinceEpoch - seconds).count());
  spdlog::string_view_t level = spdlog::level::to_string_view(msg.level);

  char prefix[96];
  char* o = prefix;
  std::memcpy(o, date_, dateBytes_);
  o += dateBytes_;
  *o++ = static_cast<char>('0' + ms / 100);
  *o++ = static_cast<char>('0' + ms / 10 % 10);
  *o++ = static_cast<char>('0' + ms % 10);
  std::size_t offsetBytes = std::strlen(offset_);
  std::memcpy(o, offset_, offsetBytes);
  o += offsetBytes;
  std::memcpy(o, "\",\"level\":\"", 11);
  o += 11;
  std::memcpy(o, level.data(), level.size());
  o += level.size();
  std::memcpy(o, "\",", 2);
  o += 2;
  dest.append(prefix, o);
  if (msg.payload.size() > 0 && msg.payload.data()[0] == '"') {
    dest.append(msg.payload.begin(), msg.payload.end());
  } else {
    wrapText(msg, dest);
  }
  dest.append(std::string_view("}\n"));
}

void JsonLineFormatter::wrapText(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  std::string_view text(msg.payload.data(), msg.payload.size());
  if (text.starts_with("[tcp server] ")) text.remove_prefix(13);
  std::string body = "\"event\":\"";
  body.append(eventOfLevel(msg.level));
  body.append("\",");
  std::string_view ip;
  std::string_view port;
  if (findPeer(text, ip, port)) {
    appendJsonMember("ip", ip, body);
    body.append(",\"port\":");
    body.append(port);
    body.push_back(',');
  }
  appendJsonMember("message", text, body);
  dest.append(body.data(), body.data() + body.size());
}

std::unique_ptr<spdlog::formatter> JsonLineFormatter::clone() const {
  return std::make_unique<JsonLineFormatter>(*this);
}

}  // namespace uvframe
