// Experiment (not part of the product): uvframe-server-exp is uvframe-server
// with one change, makeBlockLogger() setting the hand-written formatter of
// exp_line_formatter.h instead of spdlog's pattern_formatter, so that
// scripts/bench.sh (scenarios uvx_log, uvx_nolog) can measure what that
// change gives end to end. The linker takes this definition of
// makeBlockLogger before the archive's, and block_sink.o is then not linked
// at all, so the sink is a copy of common/block_sink.cpp's BlockSink under
// another name.
#include <spdlog/details/null_mutex.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>

#include <memory>
#include <string>

#include "exp_line_formatter.h"
#include "log_writer.h"

namespace uvframe {
namespace {

class ExpServerBlockSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  explicit ExpServerBlockSink(LogWriter& writer)
      : writer_(writer), handOverBytes_(writer.blockBytes() - writer.blockBytes() / 8) {}
  ~ExpServerBlockSink() override {
    if (hasBlock_) writer_.submit(std::move(block_));
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (!hasBlock_) {
      block_ = writer_.acquire();
      hasBlock_ = true;
    }
    formatter_->format(msg, block_);
    if (block_.size() >= handOverBytes_) handOver();
  }
  void flush_() override {
    if (hasBlock_ && block_.size() > 0) handOver();
  }

 private:
  void handOver() {
    writer_.submit(std::move(block_));
    block_.clear();
    hasBlock_ = false;
  }

  LogWriter& writer_;
  LogWriter::Block block_;
  bool hasBlock_ = false;
  std::size_t handOverBytes_;
};

}  // namespace

std::shared_ptr<spdlog::logger> makeBlockLogger(const std::string& name, LogWriter& writer,
                                                spdlog::level::level_enum level) {
  auto logger =
      std::make_shared<spdlog::logger>(name, std::make_shared<ExpServerBlockSink>(writer));
  logger->set_formatter(std::make_unique<bench::ExpLineFormatter>());
  logger->set_level(level);
  return logger;
}

}  // namespace uvframe
