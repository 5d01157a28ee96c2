// Helpers shared by the abuse tests: load scaled for sanitizer builds, the
// descriptor limit of the test process, a log file read as it grows, a
// server's memory, descriptors and CPU time from /proc, and waiting for many
// sockets to be closed by the server at once.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace uvframe::test {

using Clock = std::chrono::steady_clock;

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitizedBuild = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool kSanitizedBuild = true;
#else
inline constexpr bool kSanitizedBuild = false;
#endif
#else
inline constexpr bool kSanitizedBuild = false;
#endif

#if defined(__SANITIZE_THREAD__)
inline constexpr bool kThreadSanitizerBuild = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
inline constexpr bool kThreadSanitizerBuild = true;
#else
inline constexpr bool kThreadSanitizerBuild = false;
#endif
#else
inline constexpr bool kThreadSanitizerBuild = false;
#endif

/// full scaled by UVFRAME_ABUSE_SCALE (a factor, e.g. 0.2) when set, else by
/// the build's default (1 in Release and ASan, less under TSan, whose server
/// is many times slower); never below minimum.
int scaledCount(int full, int minimum = 1);

/// Raises this process's soft RLIMIT_NOFILE to at least want (up to the hard
/// limit); returns the soft limit in force afterwards.
unsigned long raiseOpenFileLimit(unsigned long want);

/// A log file read as it grows: refresh() appends the new complete lines.
/// There is no event for "a line reached a file", so waitUntil() polls.
class LogFile {
 public:
  explicit LogFile(std::string path) : path_(std::move(path)) {}

  const std::vector<std::string>& refresh();
  const std::vector<std::string>& lines() const { return lines_; }
  /// Polls (every 20 ms) until pred holds for the lines or the deadline.
  bool waitUntil(const std::function<bool(const std::vector<std::string>&)>& pred,
                 std::chrono::milliseconds timeout);
  /// The whole file as raw bytes.
  std::string bytes() const;

 private:
  std::string path_;
  std::uint64_t offset_ = 0;
  std::string partial_;
  std::vector<std::string> lines_;
};

std::size_t countContaining(const std::vector<std::string>& lines, const std::string& text);

/// From /proc/<pid>: resident memory in KiB, open descriptors, CPU seconds
/// (user + system). nullopt when the process is gone.
std::optional<long> residentKiB(pid_t pid);
std::optional<int> openDescriptors(pid_t pid);
std::optional<double> cpuSeconds(pid_t pid);

/// Waits (poll over all of them, one deadline) until the server has closed
/// each socket (EOF or reset; bytes that arrive meanwhile are discarded).
/// Returns early once `enough` of them are closed. The result says when each
/// was seen closed; nullopt for those still open.
std::vector<std::optional<Clock::time_point>> waitAllClosedByPeer(
    const std::vector<int>& fds, std::chrono::milliseconds timeout,
    std::size_t enough = static_cast<std::size_t>(-1));

/// The port of the TCP socket that process pid listens on at 127.0.0.1
/// (from /proc/net/tcp and /proc/<pid>/fd), polled until the deadline; 0 if
/// none appears. For a server whose log, listening line included, is lost.
std::uint16_t listeningPortOf(pid_t pid, std::chrono::milliseconds timeout);

/// The bytes of a frame header announcing payloadBytes, little-endian.
std::string littleEndianHeader(std::uint32_t payloadBytes);

}  // namespace uvframe::test
