// BlockSink: see block_sink.h.
#include "block_sink.h"

#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>

namespace uvframe {

BlockSink::BlockSink(LogWriter& writer)
    : writer_(writer),
      block_(writer.acquire()),
      // Hand over a little before the block is full so a typical line never
      // makes the buffer reallocate.
      handOverBytes_(writer.blockBytes() - writer.blockBytes() / 8) {}

BlockSink::~BlockSink() {
  writer_.submit(std::move(block_));
}

void BlockSink::sink_it_(const spdlog::details::log_msg& msg) {
  formatter_->format(msg, block_);
  if (block_.size() >= handOverBytes_) handOver();
}

void BlockSink::flush_() {
  if (block_.size() > 0) handOver();
}

void BlockSink::handOver() {
  writer_.submit(std::move(block_));
  block_ = writer_.acquire();
}

std::shared_ptr<spdlog::logger> makeBlockLogger(const std::string& name, LogWriter& writer,
                                                spdlog::level::level_enum level) {
  auto sink = std::make_shared<BlockSink>(writer);
  auto logger = std::make_shared<spdlog::logger>(name, std::move(sink));
  logger->set_formatter(
      std::make_unique<spdlog::pattern_formatter>(kLogPattern, spdlog::pattern_time_type::local,
                                                  std::string(spdlog::details::os::default_eol)));
  logger->set_level(level);
  return logger;
}

}  // namespace uvframe
