// Helpers for reading server log lines in integration tests: the spdlog
// prefix, the per-peer message lines, and CP949 text for classic-client
// sessions.
#pragma once

#include <map>
#include <regex>
#include <string>
#include <vector>

namespace uvframe::test {

/// The line with its "[YYYY-mm-dd HH:MM:SS.mmm] [level] " prefix removed, or
/// an empty string when the line has no such prefix.
inline std::string withoutPrefix(const std::string& line, std::string* level = nullptr) {
  static const std::regex kPrefix(R"(^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] \[(\w+)\] )");
  std::smatch m;
  if (!std::regex_search(line, m, kPrefix)) return {};
  if (level) *level = m[1].str();
  return line.substr(static_cast<std::size_t>(m.length(0)));
}

/// Every message line grouped by peer ("127.0.0.1:55244" -> payload texts in
/// log order).
inline std::map<std::string, std::vector<std::string>> messagesByPeer(
    const std::vector<std::string>& lines) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& line : lines) {
    auto start = line.find("] [tcp/");
    if (start == std::string::npos) continue;
    start += 7;
    auto end = line.find("] ", start);
    if (end == std::string::npos) continue;
    out[line.substr(start, end - start)].push_back(line.substr(end + 2));
  }
  return out;
}

/// UTF-8 text converted to CP949 bytes (what the classic Windows client sends).
std::string toCp949(const std::string& utf8);

}  // namespace uvframe::test
