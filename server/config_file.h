// ConfigFileScan: where each key of a --config file (TOML, or INI) sits, so
// an error CLI11 reports about a key can name the file line. Socket-free and
// independent of CLI11; header-only so the unit tests need no server library.
// It reads only the shape CLI11's config reader accepts: `key = value` lines,
// `[section]` headers (keys then read `section.key`), `#`/`;` comments.
#pragma once

#include <cstddef>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace uvframe {

/// One `key = value` line of a config file.
struct ConfigKey {
  std::string name;  ///< as CLI11 names it: "port", or "section.port" under [section]
  int line = 0;      ///< 1-based
};

/// What a config file says, key by key.
struct ConfigFileScan {
  std::vector<ConfigKey> keys;  ///< in file order, duplicates kept
  int badLine = 0;              ///< first line that is neither key = value, section nor comment
  std::string badText;          ///< that line, trimmed

  /// The line of the first `name = …`, or 0 when the file does not set it.
  int lineOf(std::string_view name) const {
    for (const auto& key : keys) {
      if (key.name == name) return key.line;
    }
    return 0;
  }
  /// The line of a second `name = …`, or 0 when it is set at most once.
  int duplicateLineOf(std::string_view name) const {
    bool seen = false;
    for (const auto& key : keys) {
      if (key.name != name) continue;
      if (seen) return key.line;
      seen = true;
    }
    return 0;
  }
};

namespace config_file_detail {

inline std::string_view trim(std::string_view s) {
  const char* space = " \t\r\f\v";
  std::size_t first = s.find_first_not_of(space);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(space) - first + 1);
}

/// A key may be quoted ("max-frame" = 1); the quotes are not part of it.
inline std::string unquote(std::string_view s) {
  s = trim(s);
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front())
    s = s.substr(1, s.size() - 2);
  return std::string(s);
}

}  // namespace config_file_detail

/// Scans the text of a config file.
inline ConfigFileScan scanConfigText(std::string_view text) {
  using config_file_detail::trim;
  using config_file_detail::unquote;
  ConfigFileScan scan;
  std::string section;
  int number = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = trim(text.substr(pos, end - pos));
    pos = end + 1;
    ++number;
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      std::size_t close = line.find(']');
      std::string name = unquote(
          line.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
      // "[[x]]" arrays of tables, and [default] (CLI11's top level).
      while (!name.empty() && name.front() == '[')
        name.erase(0, 1);
      section = name == "default" ? std::string() : name;
      continue;
    }
    std::size_t eq = line.find('=');
    std::string key = eq == std::string_view::npos ? std::string() : unquote(line.substr(0, eq));
    if (key.empty()) {
      if (scan.badLine == 0) {
        scan.badLine = number;
        scan.badText = std::string(line);
      }
      continue;
    }
    scan.keys.push_back({section.empty() ? key : section + "." + key, number});
  }
  return scan;
}

/// Scans a config file; nullopt when it cannot be read.
inline std::optional<ConfigFileScan> scanConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return scanConfigText(text.str());
}

}  // namespace uvframe
