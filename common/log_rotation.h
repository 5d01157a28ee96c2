// Log rotation by size (--log-max-size with --log-max-files), done by the
// LogWriter thread itself: when the file has reached the size, at a line
// boundary, it is renamed down a chain and a new one is opened:
//
//   server.log.(N-1) -> server.log.N  (the old server.log.N is dropped)
//   …
//   server.log       -> server.log.1
//   (new) server.log
//
// The writer hands the file whole lines only: a block that would carry the
// file past the size is written up to the end of the line that crosses it
// (rotationCut), the file is rotated, and the rest of the block goes to the
// new file. So a file passes --log-max-size by at most one line (a line
// longer than the size is never split), and no line is lost or cut.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace uvframe {

/// How many bytes of data[0, size) to write to a file holding fileBytes so
/// that it reaches maxBytes by at most one line: size when all of it stays
/// below maxBytes; else up to and including the '\n' of the line in which
/// the file reaches maxBytes (size if that line does not end in data); a
/// file already at maxBytes gets the rest of its current line only.
/// maxBytes == 0: no rotation (size).
std::size_t rotationCut(const char* data, std::size_t size, std::uint64_t fileBytes,
                        std::uint64_t maxBytes);

/// Removes path.maxFiles (the oldest), then renames path.(maxFiles-1) to
/// path.maxFiles, …, path.1 to path.2 and path to path.1 (missing files are
/// skipped). maxFiles >= 1. Returns "" or what failed (strerror text with
/// the names); after a failure the chain may be partly shifted, never lost.
std::string rotateLogFiles(const std::string& path, unsigned maxFiles);

}  // namespace uvframe
