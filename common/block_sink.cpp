// BlockSink: see block_sink.h.
#include "block_sink.h"

#include <spdlog/logger.h>

#include "line_formatter.h"

namespace uvframe {

// The sink holds a block only between its first line and the next hand-over,
// never while idle: with one sink per thread and more threads than the
// writer's maxBlocks, sinks that each kept a block from construction on would
// leave none for the last ones, whose constructor (or first line) would then
// wait forever.
BlockSink::BlockSink(LogWriter& writer, bool neverWait)
    : writer_(writer),
      neverWait_(neverWait),
      // Hand over a little before the block is full so a typical line never
      // makes the buffer reallocate.
      handOverBytes_(writer.blockBytes() - writer.blockBytes() / 8) {}

BlockSink::~BlockSink() {
  if (hasBlock_) {
    writer_.countLines(blockLines_);
    writer_.submit(std::move(block_));
  }
}

void BlockSink::sink_it_(const spdlog::details::log_msg& msg) {
  if (!hasBlock_) {
    block_ = neverWait_ ? writer_.acquireNoWait() : writer_.acquire();
    hasBlock_ = true;
  }
  formatter_->format(msg, block_);
  ++blockLines_;
  if (block_.size() >= handOverBytes_) handOver();
}

void BlockSink::flush_() {
  if (hasBlock_ && block_.size() > 0) handOver();
}

void BlockSink::handOver() {
  writer_.countLines(blockLines_);
  blockLines_ = 0;
  writer_.submit(std::move(block_));
  block_.clear();  // moved from: empty it explicitly
  hasBlock_ = false;
}

std::shared_ptr<spdlog::logger> makeBlockLogger(const std::string& name, LogWriter& writer,
                                                spdlog::level::level_enum level, bool neverWait,
                                                LogFormat format) {
  auto sink = std::make_shared<BlockSink>(writer, neverWait);
  auto logger = std::make_shared<spdlog::logger>(name, std::move(sink));
  if (format == LogFormat::kJson) {
    logger->set_formatter(std::make_unique<JsonLineFormatter>());
  } else {
    logger->set_formatter(std::make_unique<LineFormatter>());
  }
  logger->set_level(level);
  return logger;
}

}  // namespace uvframe
