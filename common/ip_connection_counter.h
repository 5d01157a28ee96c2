// IpConnectionCounter: how many connections each client address holds right
// now, across all workers, for --max-connections-per-ip. SO_REUSEPORT spreads
// one address's connections over every worker, so the count is shared: a
// mutex-guarded hash map, touched twice per connection (admit, close) and
// never per frame. Keys are the 16-byte IPv6 form of the address (IPv4 as
// ::ffff:a.b.c.d), so "127.0.0.1" and "::ffff:127.0.0.1" are one client.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>

namespace uvframe {

/// Thread-safe.
class IpConnectionCounter {
 public:
  using Key = std::array<std::uint8_t, 16>;

  /// The key of a numeric address ("127.0.0.1", "::1"), or nullopt.
  static std::optional<Key> keyOf(std::string_view ip);

  /// Counts one more connection from key unless it already holds limit;
  /// returns false (and counts nothing) at the limit.
  bool tryAdd(const Key& key, std::size_t limit);
  /// Forgets one connection from key (added before).
  void remove(const Key& key);
  /// Connections key holds now.
  std::size_t count(const Key& key) const;
  /// Addresses holding at least one connection.
  std::size_t addresses() const;

 private:
  struct Hash {
    std::size_t operator()(const Key& k) const noexcept;
  };
  mutable std::mutex mutex_;
  std::unordered_map<Key, std::uint32_t, Hash> counts_;
};

}  // namespace uvframe
