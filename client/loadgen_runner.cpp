// LoadRunner: see loadgen_runner.h.
#include "loadgen_runner.h"

#include <cstdio>
#include <stdexcept>

namespace uvframe {

LoadRunner::LoadRunner(LoadPlan plan) : plan_(std::move(plan)) {
  const LoadgenOptions& o = *plan_.options;
  unsigned loops = o.threads;
  std::vector<std::vector<std::uint64_t>> ids(loops);
  for (std::uint64_t id = 0; id < o.connections; ++id)
    ids[id % loops].push_back(id);
  for (unsigned i = 0; i < loops; ++i) {
    counters_.push_back(std::make_unique<LoadCounters>());
    published_.push_back(std::make_unique<PublishedHistogram>());
    clients_.push_back(std::make_unique<LoadClient>(plan_, std::move(ids[i]), *counters_.back(),
                                                    *published_.back()));
  }
}

LoadRunner::~LoadRunner() {
  for (auto& client : clients_)
    client->requestStop(true);
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  closeHandles();
  uv_run(loop_.get(), UV_RUN_DEFAULT);
}

void LoadRunner::startHandles() {
  auto check = [](int rc, const char* what) {
    if (rc != 0) throw std::runtime_error(std::string(what) + ": " + uvErrorText(rc));
  };
  check(uv_signal_init(loop_.get(), &sigint_), "uv_signal_init");
  check(uv_signal_init(loop_.get(), &sigterm_), "uv_signal_init");
  check(uv_timer_init(loop_.get(), &progressTimer_), "uv_timer_init");
  check(uv_async_init(loop_.get(), &finishedAsync_, onLoopFinished), "uv_async_init");
  sigint_.data = sigterm_.data = progressTimer_.data = finishedAsync_.data = this;
  check(uv_signal_start(&sigint_, onSignal, SIGINT), "uv_signal_start");
  check(uv_signal_start(&sigterm_, onSignal, SIGTERM), "uv_signal_start");
  double interval = plan_.options->progressIntervalS;
  if (interval > 0) {
    auto ms = static_cast<std::uint64_t>(interval * 1000);
    check(uv_timer_start(&progressTimer_, onProgress, ms, ms), "uv_timer_start");
  }
}

void LoadRunner::closeHandles() {
  if (handlesClosed_) return;
  handlesClosed_ = true;
  for (auto* h :
       {reinterpret_cast<uv_handle_t*>(&sigint_), reinterpret_cast<uv_handle_t*>(&sigterm_),
        reinterpret_cast<uv_handle_t*>(&progressTimer_),
        reinterpret_cast<uv_handle_t*>(&finishedAsync_)}) {
    if (h->loop != nullptr && !uv_is_closing(h)) uv_close(h, nullptr);
  }
}

LoadResult LoadRunner::run() {
  startHandles();
  const LoadgenOptions& o = *plan_.options;
  plan_.startNs = uv_hrtime();
  plan_.deadlineNs =
      o.durationS > 0 ? plan_.startNs + static_cast<std::uint64_t>(o.durationS * 1e9) : 0;
  plan_.latencyFromNs = plan_.startNs + static_cast<std::uint64_t>(o.warmupS * 1e9);
  lastProgressNs_ = plan_.startNs;
  for (auto& client : clients_) {
    LoadClient* c = client.get();
    threads_.emplace_back([this, c] {
      try {
        c->run();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "uvframe-loadgen: error: %s\n", e.what());
      }
      finishedLoops_.fetch_add(1);
      uv_async_send(&finishedAsync_);
    });
  }
  uv_run(loop_.get(), UV_RUN_DEFAULT);
  for (auto& t : threads_)
    t.join();

  LoadResult result;
  result.totals = totals();
  result.latencies = mergedLatencies();
  result.interrupted = signalsSeen_ > 0;
  std::uint64_t endNs =
      result.totals.lastActivityNs > plan_.startNs ? result.totals.lastActivityNs : uv_hrtime();
  result.durationS = static_cast<double>(endNs - plan_.startNs) / 1e9;
  if (result.totals.lastOpenNs > plan_.startNs) {
    result.connectSpanS = static_cast<double>(result.totals.lastOpenNs - plan_.startNs) / 1e9;
  }
  return result;
}

void LoadRunner::onLoopFinished(uv_async_t* async) noexcept {
  auto* self = ownerOf<LoadRunner>(async);
  // uv_async_send coalesces, so count instead of trusting one call per loop.
  if (self->finishedLoops_.load() == self->clients_.size()) self->closeHandles();
}

void LoadRunner::onSignal(uv_signal_t* handle, int signum) noexcept {
  auto* self = ownerOf<LoadRunner>(handle);
  bool hard = ++self->signalsSeen_ > 1;
  std::fprintf(
      stderr, "[loadgen] %s: %s\n", signum == SIGINT ? "SIGINT" : "SIGTERM",
      hard ? "closing every connection now" : "stopping, draining (signal again to close at once)");
  for (auto& client : self->clients_)
    client->requestStop(hard);
}

void LoadRunner::onProgress(uv_timer_t* timer) noexcept {
  ownerOf<LoadRunner>(timer)->printProgress();
}

void LoadRunner::printProgress() {
  std::uint64_t nowNs = uv_hrtime();
  LoadTotals t = totals();
  double dt = static_cast<double>(nowNs - lastProgressNs_) / 1e9;
  if (dt <= 0) return;
  double framesPerS = static_cast<double>(t.framesSent - lastFramesSent_) / dt;
  double mbPerS = static_cast<double>(t.bytesSent - lastBytesSent_) / dt / 1e6;
  double elapsedS = static_cast<double>(nowNs - plan_.startNs) / 1e9;
  std::string latency;
  if (plan_.options->echo) {
    LatencyHistogram h = mergedLatencies();
    double echoedPerS = static_cast<double>(t.framesEchoed - lastFramesEchoed_) / dt;
    char buf[96];
    std::snprintf(buf, sizeof buf, " echoed/s=%.0f p99=%.3fms", echoedPerS,
                  static_cast<double>(h.valueAtPercentile(99.0)) / 1e6);
    latency = buf;
  }
  std::fprintf(stderr,
               "[loadgen] %.1fs open=%llu opened=%llu failed=%llu frames/s=%.0f MB/s=%.2f%s "
               "errors=%llu\n",
               elapsedS, static_cast<unsigned long long>(t.connectionsOpen),
               static_cast<unsigned long long>(t.connectionsOpened),
               static_cast<unsigned long long>(t.connectionsFailed), framesPerS, mbPerS,
               latency.c_str(), static_cast<unsigned long long>(t.totalErrors()));
  lastProgressNs_ = nowNs;
  lastFramesSent_ = t.framesSent;
  lastBytesSent_ = t.bytesSent;
  lastFramesEchoed_ = t.framesEchoed;
}

LoadTotals LoadRunner::totals() const {
  LoadTotals t;
  for (const auto& c : counters_)
    t.add(*c);
  return t;
}

LatencyHistogram LoadRunner::mergedLatencies() const {
  LatencyHistogram merged;
  for (const auto& p : published_) {
    std::lock_guard lock(p->mutex);
    merged.merge(p->histogram);
  }
  return merged;
}

}  // namespace uvframe
