// IpConnectionCounter: see ip_connection_counter.h.
#include "ip_connection_counter.h"

#include <algorithm>
#include <string>

#ifdef _WIN32
#include <ws2tcpip.h>
#else
#include <arpa/inet.h>
#endif

namespace uvframe {

std::optional<IpConnectionCounter::Key> IpConnectionCounter::keyOf(std::string_view ip) {
  if (ip.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  std::string text(ip);
  Key key{};
  std::uint8_t v4[4];
  if (inet_pton(AF_INET, text.c_str(), v4) == 1) {
    key[10] = key[11] = 0xff;
    std::copy(v4, v4 + 4, key.begin() + 12);
    return key;
  }
  if (inet_pton(AF_INET6, text.c_str(), key.data()) == 1) return key;
  return std::nullopt;
}

std::size_t IpConnectionCounter::Hash::operator()(const Key& k) const noexcept {
  // FNV-1a over the 16 bytes: addresses are not chosen to collide here
  // (the count only limits; a collision costs a longer bucket, not a wrong
  // answer).
  std::uint64_t h = 1469598103934665603ull;
  for (std::uint8_t b : k)
    h = (h ^ b) * 1099511628211ull;
  return static_cast<std::size_t>(h);
}

bool IpConnectionCounter::tryAdd(const Key& key, std::size_t limit) {
  std::lock_guard lock(mutex_);
  std::uint32_t& n = counts_[key];
  if (n >= limit) {
    if (n == 0) counts_.erase(key);
    return false;
  }
  ++n;
  return true;
}

void IpConnectionCounter::remove(const Key& key) {
  std::lock_guard lock(mutex_);
  auto it = counts_.find(key);
  if (it == counts_.end()) return;
  if (--it->second == 0) counts_.erase(it);
}

std::size_t IpConnectionCounter::count(const Key& key) const {
  std::lock_guard lock(mutex_);
  auto it = counts_.find(key);
  return it == counts_.end() ? 0 : it->second;
}

std::size_t IpConnectionCounter::addresses() const {
  std::lock_guard lock(mutex_);
  return counts_.size();
}

}  // namespace uvframe
