// The log file's system calls: see log_file_io.h.
#include "log_file_io.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

#ifdef _WIN32
#include <io.h>
#define UVFRAME_WRITE _write
#define UVFRAME_OPEN_FLAGS (_O_WRONLY | _O_CREAT | _O_APPEND | _O_BINARY)
#else
#include <unistd.h>
#define UVFRAME_WRITE ::write
#define UVFRAME_OPEN_FLAGS (O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC)
#endif

namespace uvframe {

int openLogFile(const std::string& path) {
#ifdef _WIN32
  return _open(path.c_str(), UVFRAME_OPEN_FLAGS, _S_IREAD | _S_IWRITE);
#else
  return ::open(path.c_str(), UVFRAME_OPEN_FLAGS, 0644);
#endif
}

long writeSome(int fd, const char* data, std::size_t size) {
  while (true) {
    auto n = UVFRAME_WRITE(fd, data, static_cast<unsigned>(std::min<std::size_t>(size, 1u << 30)));
    if (n > 0) return static_cast<long>(n);
    if (n == 0) return -EIO;  // no progress and no reason: treat as an I/O error
    if (errno != EINTR) return -errno;
  }
}

FileSpot spotOf(int fd) {
  FileSpot spot;
#ifndef _WIN32
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    spot = {true, static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
            static_cast<std::int64_t>(st.st_size)};
  }
#else
  (void)fd;
#endif
  return spot;
}

bool fileEndsAtLineStart(int fd, const std::string& path) {
#ifndef _WIN32
  FileSpot spot = spotOf(fd);
  if (!spot.known || spot.size == 0) return true;
  int rd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (rd < 0) return true;
  char last = '\n';
  FileSpot readSpot = spotOf(rd);
  if (readSpot.known && readSpot.device == spot.device && readSpot.inode == spot.inode &&
      readSpot.size > 0) {
    if (::pread(rd, &last, 1, static_cast<off_t>(readSpot.size - 1)) != 1) last = '\n';
  }
  ::close(rd);
  return last == '\n';
#else
  (void)fd;
  (void)path;
  return true;
#endif
}

void closeLogFile(int fd) {
#ifdef _WIN32
  _close(fd);
#else
  ::close(fd);
#endif
}

}  // namespace uvframe
