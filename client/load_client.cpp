// LoadClient: see load_client.h.
#include "load_client.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace uvframe {
namespace {

// Connects in progress per loop at most: more only overflows the server's
// SYN and accept queues, and the overflow costs whole-second SYN retries.
constexpr std::size_t kMaxConnecting = 256;
constexpr std::uint64_t kPublishIntervalNs = 200'000'000;
constexpr std::size_t kMaxFreeBatches = 1024;
constexpr std::size_t kMaxPooledBatchBytes = 1 << 20;
constexpr std::size_t kReadBufferBytes = 64 * 1024;

std::uint64_t secondsToNs(double s) {
  return static_cast<std::uint64_t>(s * 1e9);
}

}  // namespace

LoadClient::LoadClient(const LoadPlan& plan, std::vector<std::uint64_t> connIds,
                       LoadCounters& counters, PublishedHistogram& published)
    : plan_(plan),
      counters_(counters),
      published_(published),
      readBuffer_(kReadBufferBytes),
      plaintext_(plan.tls ? kReadBufferBytes : 0) {
  if (plan.tls) {
    std::string error;
    tls_ = plan.tls->reloaded(error);
    if (!tls_) tls_ = plan.tls;  // the files went away since the start: share the plan's
  }
  int rc = uv_timer_init(loop_.get(), &tickTimer_);
  if (rc != 0) throw std::runtime_error("uv_timer_init: " + uvErrorText(rc));
  tickTimer_.data = this;
  rc = uv_async_init(loop_.get(), &stopAsync_, onStopAsync);
  if (rc != 0) throw std::runtime_error("uv_async_init: " + uvErrorText(rc));
  stopAsync_.data = this;
  conns_.reserve(connIds.size());
  for (std::size_t i = 0; i < connIds.size(); ++i) {
    conns_.push_back(
        std::make_unique<LoadConnection>(*this, connIds[i], static_cast<std::uint32_t>(i)));
  }
  const LoadgenOptions& o = *plan_.options;
  if (o.connectRatePerS > 0) {
    double share = static_cast<double>(connIds.size()) / static_cast<double>(o.connections);
    connectsPerNs_ = o.connectRatePerS * share / 1e9;
  }
}

LoadClient::~LoadClient() {
  if (phase_ != Phase::kDone) {
    // run() never ran (or threw): close the two handles before they go.
    uv_close(reinterpret_cast<uv_handle_t*>(&tickTimer_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&stopAsync_), nullptr);
    uv_run(loop_.get(), UV_RUN_DEFAULT);
  }
}

void LoadClient::run() {
  std::uint64_t intervalMs = plan_.framePeriodNs != 0 ? 1 : 10;
  int rc = uv_timer_start(&tickTimer_, onTick, intervalMs, intervalMs);
  if (rc != 0) throw std::runtime_error("uv_timer_start: " + uvErrorText(rc));
  lastPublishNs_ = uv_hrtime();
  startConnections(lastPublishNs_);
  // Returns once finish() has closed the last handles.
  uv_run(loop_.get(), UV_RUN_DEFAULT);
}

void LoadClient::requestStop(bool hard) {
  int wanted = hard ? 2 : 1;
  int current = stopRequest_.load();
  while (current < wanted && !stopRequest_.compare_exchange_weak(current, wanted)) {
  }
  std::lock_guard lock(asyncMutex_);
  if (!asyncClosed_) uv_async_send(&stopAsync_);
}

void LoadClient::onStopAsync(uv_async_t* async) noexcept {
  ownerOf<LoadClient>(async)->tick();
}

void LoadClient::onTick(uv_timer_t* timer) noexcept {
  ownerOf<LoadClient>(timer)->tick();
}

void LoadClient::tick() {
  if (phase_ == Phase::kDone) return;
  std::uint64_t nowNs = uv_hrtime();
  int stop = stopRequest_.load();
  if (phase_ == Phase::kRunning) {
    bool pastDeadline = plan_.deadlineNs != 0 && nowNs >= plan_.deadlineNs;
    if (stop != 0 || pastDeadline || settled_ == conns_.size()) {
      beginDrain(nowNs);
    } else {
      startConnections(nowNs);
      expireConnects(nowNs);
      if (plan_.framePeriodNs != 0) runSchedule(nowNs);
    }
  }
  if (phase_ == Phase::kDraining) {
    if (stop == 2 || nowNs >= drainDeadlineNs_) {
      for (auto& conn : conns_)
        conn->close();
    }
    if (live_ == 0) finish();
  }
  if (phase_ != Phase::kDone && nowNs - lastPublishNs_ >= kPublishIntervalNs) {
    lastPublishNs_ = nowNs;
    publish();
  }
}

void LoadClient::startConnections(std::uint64_t nowNs) {
  std::size_t allowed = conns_.size() - nextToStart_;
  if (connectsPerNs_ > 0) {
    auto budget = static_cast<std::size_t>(
                      std::floor(static_cast<double>(nowNs - plan_.startNs) * connectsPerNs_)) +
                  1;
    allowed = std::min(allowed, budget > nextToStart_ ? budget - nextToStart_ : 0);
  }
  allowed = std::min(allowed, connecting_ < kMaxConnecting ? kMaxConnecting - connecting_ : 0);
  for (std::size_t i = 0; i < allowed && phase_ == Phase::kRunning; ++i) {
    ++live_;
    conns_[nextToStart_++]->startConnect();
  }
}

void LoadClient::connectStarted(LoadConnection& conn) {
  ++connecting_;
  connectDeadlines_.push_back(
      {uv_hrtime() + secondsToNs(plan_.options->connectTimeoutS), conn.index(), conn.attempt()});
}

void LoadClient::expireConnects(std::uint64_t nowNs) {
  // Every connect gets the same timeout, so the deadlines are in order.
  while (!connectDeadlines_.empty() && connectDeadlines_.front().deadlineNs <= nowNs) {
    ConnectDeadline d = connectDeadlines_.front();
    connectDeadlines_.pop_front();
    LoadConnection& conn = *conns_[d.index];
    if (conn.state() == LoadConnection::State::kConnecting && conn.attempt() == d.attempt) {
      conn.abortConnect(true);
    }
  }
}

void LoadClient::connectionOpened(LoadConnection& conn) {
  if (phase_ != Phase::kRunning) {
    conn.finishLoad();
    return;
  }
  if (plan_.framePeriodNs == 0) {
    conn.fillPipeline();
    return;
  }
  // Spread the connections' schedules over one period, so N connections at
  // rate r do not all send at the same instant.
  std::uint64_t offsetNs = (conn.index() * 0x9E3779B97F4A7C15ull) % plan_.framePeriodNs;
  conn.setNextDueNs(uv_hrtime() + offsetNs);
  schedule_.push({conn.nextDueNs(), conn.index()});
}

void LoadClient::scheduleAgain(LoadConnection& conn) {
  if (phase_ == Phase::kRunning && conn.isOpen()) schedule_.push({conn.nextDueNs(), conn.index()});
}

void LoadClient::runSchedule(std::uint64_t nowNs) {
  while (!schedule_.empty() && schedule_.top().dueNs <= nowNs) {
    Due due = schedule_.top();
    schedule_.pop();
    LoadConnection& conn = *conns_[due.index];
    conn.sendDue(nowNs);
    if (conn.isOpen() && !conn.scheduleBlocked() && !conn.quotaReached()) {
      schedule_.push({conn.nextDueNs(), due.index});
    }
  }
}

void LoadClient::connectionSettled(LoadConnection&) {
  ++settled_;
}

void LoadClient::connectionClosed(LoadConnection&) {
  --live_;
}

void LoadClient::beginDrain(std::uint64_t nowNs) {
  phase_ = Phase::kDraining;
  drainDeadlineNs_ = nowNs + secondsToNs(plan_.options->drainTimeoutS);
  schedule_ = {};
  for (auto& conn : conns_) {
    if (conn->state() == LoadConnection::State::kConnecting) {
      conn->abortConnect(false);
    } else {
      conn->finishLoad();
    }
  }
}

void LoadClient::publish() {
  if (latencies_.count() == 0) return;
  std::lock_guard lock(published_.mutex);
  published_.histogram.merge(latencies_);
  latencies_.reset();
}

void LoadClient::finish() {
  phase_ = Phase::kDone;
  publish();
  uv_timer_stop(&tickTimer_);
  uv_close(reinterpret_cast<uv_handle_t*>(&tickTimer_), nullptr);
  std::lock_guard lock(asyncMutex_);
  asyncClosed_ = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&stopAsync_), nullptr);
}

uv_buf_t LoadClient::readBuffer() {
  return uv_buf_init(readBuffer_.data(), static_cast<unsigned>(readBuffer_.size()));
}

WriteBatch* LoadClient::acquireBatch() {
  if (freeBatches_.empty()) return new WriteBatch();
  WriteBatch* batch = freeBatches_.back().release();
  freeBatches_.pop_back();
  return batch;
}

void LoadClient::releaseBatch(WriteBatch* batch) {
  std::unique_ptr<WriteBatch> owned(batch);
  if (freeBatches_.size() < kMaxFreeBatches && batch->bytes.capacity() <= kMaxPooledBatchBytes &&
      batch->ciphertext.capacity() <= 2 * kMaxPooledBatchBytes) {
    freeBatches_.push_back(std::move(owned));
  }
}

}  // namespace uvframe
