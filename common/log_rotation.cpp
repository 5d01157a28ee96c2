// Log rotation by size: see log_rotation.h.
#include "log_rotation.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace uvframe {

std::size_t rotationCut(const char* data, std::size_t size, std::uint64_t fileBytes,
                        std::uint64_t maxBytes) {
  if (maxBytes == 0) return size;
  // Already full (the writer could not rotate in the middle of a line): the
  // rest of the current line.
  const std::uint64_t room = fileBytes >= maxBytes ? 1 : maxBytes - fileBytes;
  if (size < room) return size;
  // data[room - 1] is the byte that makes the file reach maxBytes: end the
  // write with the line holding it.
  const void* nl = std::memchr(data + (room - 1), '\n', size - static_cast<std::size_t>(room - 1));
  if (nl == nullptr) return size;
  return static_cast<std::size_t>(static_cast<const char*>(nl) - data) + 1;
}

std::string rotateLogFiles(const std::string& path, unsigned maxFiles) {
  auto numbered = [&path](unsigned k) { return path + "." + std::to_string(k); };
  // The oldest goes first, so it is dropped even when a gap in the chain
  // means nothing is renamed onto it.
  const std::string oldest = numbered(maxFiles);
  if (std::remove(oldest.c_str()) != 0 && errno != ENOENT) {
    return "cannot remove '" + oldest + "': " + std::strerror(errno);
  }
  for (unsigned k = maxFiles; k >= 1; --k) {
    const std::string from = k == 1 ? path : numbered(k - 1);
    const std::string to = numbered(k);
    if (std::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT) {
      return "cannot rename '" + from + "' to '" + to + "': " + std::strerror(errno);
    }
  }
  return {};
}

}  // namespace uvframe
