// The log file's system calls for LogWriter, in one place per platform (POSIX
// and Windows' CRT): open for appending, write with EINTR handled, close, and
// the two questions the writer asks a descriptor before it goes on after a
// failure or a reopen (is it the same file at the same size; does the file end
// at a line start).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace uvframe {

/// Opens path for appending (created 0644 when missing); a descriptor, or -1
/// with errno set.
int openLogFile(const std::string& path);

/// Closes a descriptor from openLogFile (or the writer's wake pipe).
void closeLogFile(int fd);

/// One write(2) of up to 1 GiB, repeated on EINTR: the bytes written (> 0),
/// or minus the errno of the failure.
long writeSome(int fd, const char* data, std::size_t size);

/// Where a file descriptor points: a reopen that lands on the very same file
/// at the very same size may go on with a cut line; any other file may not.
struct FileSpot {
  bool known = false;
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::int64_t size = 0;
  bool operator==(const FileSpot&) const = default;
};

/// The spot of a regular file's descriptor; known is false otherwise (and
/// always on Windows).
FileSpot spotOf(int fd);

/// Whether the next byte written to fd starts a line: true unless fd is a
/// regular file whose last byte is not '\n' (a cut line: an abandoned write,
/// or another writer's partial line). The descriptor is write-only, so the
/// byte is read through a second descriptor on path, checked to be the same
/// file; when that fails the answer is true (no stray empty line).
bool fileEndsAtLineStart(int fd, const std::string& path);

}  // namespace uvframe
