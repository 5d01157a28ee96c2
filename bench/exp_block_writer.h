// Experiment (not used by the product): common/log_writer's hand-over of full
// blocks without a heap allocation per block, and with one writev() for all
// the blocks that are waiting.
//
// LogWriter queues blocks in a std::deque<Block>. A Block (spdlog's
// memory_buf_t) is about 290 bytes, so libstdc++ gives every deque node room
// for one element: each submit() allocates a node and each pop frees one, on
// the producer (worker) thread. Here the queue is a std::vector with capacity
// for every block in circulation; the writer swaps it with its own vector of
// the same capacity, writes all the blocks with one writev(), and gives them
// back in one go. No allocation after start-up, one wake-up and one syscall
// per batch instead of per block. Only the parts the benchmark exercises are
// here (no console, no retry, no reopen).
#pragma once

#include <spdlog/common.h>
#include <spdlog/details/null_mutex.h>
#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "block_sink.h"

namespace uvframe::bench {

class ExpLogWriter {
 public:
  using Block = spdlog::memory_buf_t;

  ExpLogWriter(int fd, std::size_t blockBytes = 64 * 1024, std::size_t maxBlocks = 32)
      : fd_(fd), blockBytes_(blockBytes), maxBlocks_(maxBlocks) {
    queue_.reserve(maxBlocks_);
    freeBlocks_.reserve(maxBlocks_);
    thread_ = std::thread([this] { run(); });
  }
  ~ExpLogWriter() { stop(); }

  std::size_t blockBytes() const { return blockBytes_; }

  Block acquire() {
    std::unique_lock lock(mutex_);
    if (freeBlocks_.empty() && blocksCreated_ < maxBlocks_) {
      ++blocksCreated_;
      lock.unlock();
      Block block;
      block.reserve(blockBytes_);
      return block;
    }
    blockFree_.wait(lock, [this] { return !freeBlocks_.empty(); });
    Block block = std::move(freeBlocks_.back());
    freeBlocks_.pop_back();
    return block;
  }

  void submit(Block&& block) {
    std::lock_guard lock(mutex_);
    if (block.size() == 0) {
      freeBlocks_.push_back(std::move(block));
      blockFree_.notify_one();
      return;
    }
    bool wasEmpty = queue_.empty();
    queue_.push_back(std::move(block));
    // The writer takes everything at once: wake it only for the first block.
    if (wasEmpty) workReady_.notify_one();
  }

  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      workReady_.notify_one();
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run() {
    std::vector<Block> batch;
    batch.reserve(maxBlocks_);
    std::vector<iovec> iov(maxBlocks_);
    std::unique_lock lock(mutex_);
    while (true) {
      workReady_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) break;
      batch.swap(queue_);
      lock.unlock();
      for (std::size_t i = 0; i < batch.size(); ++i)
        iov[i] = {batch[i].data(), batch[i].size()};
      writeAll(iov.data(), static_cast<int>(batch.size()));
      lock.lock();
      for (Block& b : batch) {
        b.clear();
        freeBlocks_.push_back(std::move(b));
      }
      batch.clear();
      blockFree_.notify_all();
    }
  }

  void writeAll(iovec* iov, int count) {
    while (count > 0) {
      ssize_t n = ::writev(fd_, iov, std::min(count, IOV_MAX));
      if (n < 0) {
        std::perror("exp_block_writer: writev");
        return;
      }
      auto left = static_cast<std::size_t>(n);
      while (count > 0 && left >= iov->iov_len) {
        left -= iov->iov_len;
        ++iov;
        --count;
      }
      if (count > 0) {
        iov->iov_base = static_cast<char*>(iov->iov_base) + left;
        iov->iov_len -= left;
      }
    }
  }

  int fd_;
  std::size_t blockBytes_;
  std::size_t maxBlocks_;
  std::mutex mutex_;
  std::condition_variable workReady_;
  std::condition_variable blockFree_;
  std::vector<Block> queue_;
  std::vector<Block> freeBlocks_;
  std::size_t blocksCreated_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

/// common/block_sink's BlockSink, on ExpLogWriter.
class ExpBlockSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  explicit ExpBlockSink(ExpLogWriter& writer)
      : writer_(writer),
        block_(writer.acquire()),
        handOverBytes_(writer.blockBytes() - writer.blockBytes() / 8) {}
  ~ExpBlockSink() override { writer_.submit(std::move(block_)); }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    formatter_->format(msg, block_);
    if (block_.size() >= handOverBytes_) handOver();
  }
  void flush_() override {
    if (block_.size() > 0) handOver();
  }

 private:
  void handOver() {
    writer_.submit(std::move(block_));
    block_ = writer_.acquire();
  }

  ExpLogWriter& writer_;
  ExpLogWriter::Block block_;
  std::size_t handOverBytes_;
};

inline std::shared_ptr<spdlog::logger> makeExpBlockLogger(const std::string& name,
                                                          ExpLogWriter& writer) {
  auto logger = std::make_shared<spdlog::logger>(name, std::make_shared<ExpBlockSink>(writer));
  logger->set_formatter(std::make_unique<spdlog::pattern_formatter>(kLogPattern));
  logger->set_level(spdlog::level::info);
  return logger;
}

}  // namespace uvframe::bench
