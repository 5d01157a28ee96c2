// BlockSink: an spdlog sink that formats lines (with the logger's pattern)
// into a private block and hands whole blocks to the LogWriter.
//
// One BlockSink per thread that logs (each worker, the control loop), so the
// sink needs no mutex: spdlog's null_mutex variant of base_sink is used. The
// owning thread calls flush() (a libuv timer does it several times a second)
// so a quiet server's last lines still reach the file quickly.
#pragma once

#include <spdlog/details/null_mutex.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>

#include <memory>

#include "json_line_formatter.h"
#include "log_writer.h"

namespace uvframe {

/// Per-thread sink; used only by the thread that owns its logger.
class BlockSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  /// neverWait: take blocks with acquireNoWait() (a thread that must stay
  /// responsive while the log is stuck; rare lines only).
  explicit BlockSink(LogWriter& writer, bool neverWait = false);
  ~BlockSink() override;

  /// Bytes formatted into the current block and not handed over yet.
  std::size_t pendingBytes() const { return block_.size(); }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override;

 private:
  void handOver();

  LogWriter& writer_;
  LogWriter::Block block_;
  bool hasBlock_ = false;  // block_ came from writer_.acquire() and is not handed over
  bool neverWait_;
  std::size_t handOverBytes_;
  // Lines in block_; added to the writer's count at hand-over, so a line
  // costs one plain increment (LogWriter::countLines).
  std::uint64_t blockLines_ = 0;
};

/// The line pattern of every uvframe log: "[2026-11-25 19:00:00.123] [info] ",
/// as spdlog would write it (LineFormatter writes exactly this, faster).
inline constexpr const char* kLogPattern = "[%Y-%m-%d %H:%M:%S.%e] [%l] %v";

/// A logger named name writing through a new BlockSink of writer, with the
/// uvframe pattern (or one JSON object per line) and the given level.
std::shared_ptr<spdlog::logger> makeBlockLogger(const std::string& name, LogWriter& writer,
                                                spdlog::level::level_enum level,
                                                bool neverWait = false,
                                                LogFormat format = LogFormat::kText);

}  // namespace uvframe
