// Server: see server.h.
#include "server.h"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <stdexcept>

#ifndef _WIN32
#include <unistd.h>
#endif

#include "block_sink.h"
#include "cli_support.h"
#include "http_request.h"
#include "log_events.h"
#include "metrics_collector.h"
#include "peer_address.h"
#include "port_probe.h"

namespace uvframe {
namespace {

#ifdef SO_REUSEPORT
constexpr bool kHaveReusePort = true;
#else
constexpr bool kHaveReusePort = false;
#endif

// Windows, as libuv maps the console's events: Ctrl+C is SIGINT, Ctrl+Break
// SIGBREAK and closing the console window SIGHUP; all three drain (Windows
// has no logrotate to send a reopen signal). Elsewhere there is no SIGBREAK
// and SIGHUP reopens the log.
#ifdef _WIN32
constexpr int kBreakSignal = SIGBREAK;
constexpr bool kHangupDrains = true;
#else
constexpr int kBreakSignal = 0;
constexpr bool kHangupDrains = false;
#endif

const char* signalName(int signum) {
  if (kBreakSignal != 0 && signum == kBreakSignal) return "SIGBREAK";
  switch (signum) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
#ifdef SIGHUP
    case SIGHUP:
      return "SIGHUP";
#endif
    default:
      return "signal";
  }
}

// The numeric address for --host: numeric text as is, a name resolved with
// the system resolver (first answer).
std::optional<PeerAddress> resolveHost(uv_loop_t* loop, const std::string& host,
                                       std::string& error) {
  sockaddr_storage probe{};
  if (parseNumericAddress(host, 0, &probe, sizeof probe)) {
    return peerFromSockaddr(reinterpret_cast<sockaddr*>(&probe));
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  uv_getaddrinfo_t req;
  int rc = uv_getaddrinfo(loop, &req, nullptr, host.c_str(), nullptr, &hints);
  if (rc != 0) {
    error = uvErrorText(rc);
    return std::nullopt;
  }
  auto peer = peerFromSockaddr(req.addrinfo->ai_addr);
  uv_freeaddrinfo(req.addrinfo);
  if (!peer) error = "no IPv4 or IPv6 address";
  return peer;
}

// Descriptors the process holds now, or 0 when the system cannot say
// (only Linux's /proc/self/fd is consulted).
std::uint64_t openDescriptorCount() {
#ifdef __linux__
  std::error_code ec;
  std::uint64_t n = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++n;
  }
  // The iterator's own descriptor for the directory was counted too.
  return ec || n == 0 ? 0 : n - 1;
#else
  return 0;
#endif
}

// How many connections the descriptor limit leaves room for once the server
// is set up (0: unknown, no such limit). Each connection holds one
// descriptor; the spare ones cover each worker's accept in flight (a
// refused connection is accepted, then closed), a log file reopened on
// SIGHUP and whatever the runtime opens.
std::uint64_t connectionsDescriptorsAllow(std::uint64_t maxDescriptors, unsigned workers) {
  std::uint64_t used = openDescriptorCount();
  if (maxDescriptors == 0 || used == 0) return 0;
  std::uint64_t spare = 8 + workers;
  return maxDescriptors > used + spare ? maxDescriptors - used - spare : 1;
}

}  // namespace

Server::Server(ServerOptions options) : options_(std::move(options)) {
  uv_loop_t* loop = loop_.get();
  uv_signal_init(loop, &sigint_);
  uv_signal_init(loop, &sigterm_);
  uv_signal_init(loop, &sighup_);
  if (kBreakSignal != 0) {
    uv_signal_init(loop, &sigbreak_);
    sigbreak_.data = this;
  }
  uv_timer_init(loop, &statsTimer_);
  uv_async_init(loop, &reopenDone_, onReopenDone);
  uv_async_init(loop, &workerDone_, onWorkerDone);
  sigint_.data = sigterm_.data = sighup_.data = statsTimer_.data = this;
  reopenDone_.data = workerDone_.data = this;
}

Server::~Server() {
  // Workers log through the writer until they are gone.
  workers_.clear();
  log_.reset();
  // After a normal run finish() has stopped the writer already; after a
  // failed start the log may be failing: do not wait for it for ever.
  if (writer_ && !writer_->stopWithin(std::chrono::seconds(2))) _exit(1);
}

int Server::run() {
  maxDescriptors_ = raiseFileDescriptorLimit();
  if (!openLog()) return 1;
  // Signals first: whoever reads the listening line may signal at once.
  uv_signal_start(&sigint_, onSignal, SIGINT);
  uv_signal_start(&sigterm_, onSignal, SIGTERM);
#ifdef SIGHUP
  uv_signal_start(&sighup_, onSignal, SIGHUP);
#endif
  if (kBreakSignal != 0) uv_signal_start(&sigbreak_, onSignal, kBreakSignal);
  // Parsed once for all workers (parseServerOptions has checked the text).
  shared_.trustedProxies = CidrList::parse(options_.trustedProxies, nullptr).value_or(CidrList{});
  shared_.allow = CidrList::parse(options_.allow, nullptr).value_or(CidrList{});
  shared_.deny = CidrList::parse(options_.deny, nullptr).value_or(CidrList{});
  if (options_.tls()) {
    std::string error;
    auto context = TlsContext::createServer(
        {options_.tlsCert, options_.tlsKey, options_.tlsClientCa, true}, error);
    SharedTlsContext::Contexts contexts;
    if (context) contexts = SharedTlsContext::perWorker(context, options_.workers, error);
    if (contexts.empty()) {
      log_->error("[tcp server] TLS: {}", error);
      std::fprintf(stderr, "uvframe-server: TLS: %s\n", error.c_str());
      return 2;
    }
    shared_.tls.set(std::move(contexts));
  }
  if (!startListening()) return 1;
  if (!startMetrics()) return 2;
  shared_.maxDescriptors = maxDescriptors_;
  shared_.descriptorConnectionLimit =
      connectionsDescriptorsAllow(maxDescriptors_, options_.workers);
  startMs_ = lastStatsMs_ = uv_now(loop_.get());
  startUnixSeconds_ =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  if (options_.statsIntervalSeconds > 0) {
    auto ms = static_cast<std::uint64_t>(options_.statsIntervalSeconds * 1000);
    uv_timer_start(&statsTimer_, onStatsTimer, ms, ms);
  }
  for (auto& w : workers_) {
    w->start([this] {
      workersDone_.fetch_add(1);
      uv_async_send(&workerDone_);
    });
  }
  // Every worker's socket listens (the kernel queues connections from now
  // on) and every loop runs: a Type=notify unit is started.
  notifier_.ready("listening on " + listeningAddress_);
  uv_run(loop_.get(), UV_RUN_DEFAULT);
  return finish();
}

bool Server::openLog() {
  try {
    LogWriter::Options lo;
    lo.console = options_.console;
    lo.filePath = options_.logFile;
    lo.maxFileBytes = options_.logMaxSizeBytes;
    lo.maxFiles = options_.logMaxFiles;
    // Each worker may hold one partly filled block and have a few queued.
    lo.maxBlocks = std::max<std::size_t>(lo.maxBlocks, 4 * (options_.workers + 1));
    // Runs on the writer thread: hand the outcome to the control loop, which
    // logs it (logging from the writer thread could wait on itself).
    lo.onReopened = [this](bool ok, const std::string& error) {
      {
        std::lock_guard lock(reopenMutex_);
        reopenErrors_.push_back(ok ? std::string() : error);
      }
      uv_async_send(&reopenDone_);
    };
    writer_ = std::make_unique<LogWriter>(lo);
  } catch (const std::runtime_error& e) {
    std::fprintf(stderr, "uvframe-server: %s\n", e.what());
    return false;
  }
  // Lifecycle lines (listening, stats, shutdown) stay visible at --log-level
  // warn, which only silences the per-message and per-connection lines.
  auto controlLevel = options_.logLevel <= spdlog::level::warn
                          ? std::min(options_.logLevel, spdlog::level::info)
                          : options_.logLevel;
  // The control loop handles the signals: it must never wait for the log
  // (a stuck console would otherwise make SIGTERM wait too).
  log_ = makeBlockLogger("server", *writer_, controlLevel, /*neverWait=*/true, options_.logFormat);
  log_->flush_on(spdlog::level::trace);
  return true;
}

// After the control loop ends (every worker has drained and stopped): the
// final stats line, the log written out within what is left of the
// shutdown's deadline, and the exit status.
int Server::finish() {
#ifdef SIGHUP
  // From here on a SIGHUP has nothing left to reopen for: ignore it, so it
  // cannot kill the process while the last lines are written. (Closing the
  // watcher restores the default action first; the two calls are adjacent.)
  uv_close(reinterpret_cast<uv_handle_t*>(&sighup_), nullptr);
  std::signal(SIGHUP, SIG_IGN);
#endif
  for (auto& w : workers_)
    w->join();
  logStats(true);
  workers_.clear();
  log_->flush();
  auto left = std::chrono::milliseconds(std::max<std::int64_t>(
      100, std::chrono::duration_cast<std::chrono::milliseconds>(shutdownDeadline_ -
                                                                 std::chrono::steady_clock::now())
               .count()));
  bool stopped = writer_->stopWithin(stopping_ ? left : std::chrono::hours(24));
  LogWriter::Counters c = writer_->counters();
  if (stopped) watchdog_.finished();
  if (c.bytesLost > 0) {
    std::fprintf(stderr, "uvframe-server: %llu bytes of log could not be written (%s)\n",
                 static_cast<unsigned long long>(c.bytesLost),
                 options_.logFile.empty() ? "console" : options_.logFile.c_str());
    std::fflush(stderr);
  }
  if (!stopped) _exit(1);  // the writer is stuck in write(2): see shutdown_watchdog.h
  return c.bytesLost > 0 ? 1 : 0;
}

bool Server::startListening() {
  std::string error;
  auto where = resolveHost(loop_.get(), options_.host, error);
  if (!where) {
    log_->error("[tcp server] cannot resolve --host {}: {}", options_.host, error);
    std::fprintf(stderr, "uvframe-server: cannot resolve --host %s: %s\n", options_.host.c_str(),
                 error.c_str());
    return false;
  }
  bool reusePort = kHaveReusePort && options_.workers > 1;
  if (!kHaveReusePort && options_.workers > 1) {
    // Without SO_REUSEPORT the kernel cannot spread connections over
    // several listening sockets; one loop serves everyone.
    log_->info(
        "[tcp server] --workers {}: this system has no SO_REUSEPORT, so one worker loop serves "
        "every connection",
        options_.workers);
    options_.workers = 1;
  }
  acceptMode_ = reusePort ? "reuseport" : "single";
  where->port = options_.port;
  try {
    if (reusePort) where->port = probeListenPort(where->ip, where->port);
    for (unsigned i = 0; i < options_.workers; ++i) {
      workers_.push_back(std::make_unique<Worker>(i, options_, shared_, *writer_));
      sockaddr_storage addr{};
      parseNumericAddress(where->ip, where->port, &addr, sizeof addr);
      workers_.back()->listen(reinterpret_cast<sockaddr*>(&addr), reusePort);
      // With --port 0 the first socket's port is the one the others share.
      if (i == 0) where->port = workers_.back()->boundPort();
    }
  } catch (const std::exception& e) {
    log_->error("[tcp server] cannot listen on {}: {}", where->hostPort(), e.what());
    std::fprintf(stderr, "uvframe-server: cannot listen on %s: %s\n", where->hostPort().c_str(),
                 e.what());
    return false;
  }
  std::size_t perWorker = inputMemoryPerWorker(options_);
  if (perWorker != 0 && perWorker * options_.workers > options_.maxInputMemoryBytes) {
    log_->warn(
        "[tcp server] --max-input-memory {} is below what each worker needs for {}-byte frames; "
        "using {} "
        "bytes per worker ({} in all)",
        options_.maxInputMemoryBytes, options_.maxFrameBytes, perWorker,
        perWorker * options_.workers);
  }
  std::string proxy = "off";
  if (options_.proxyProtocol != ProxyMode::kOff) {
    proxy =
        fmt::format("{} from {}", toString(options_.proxyProtocol), shared_.trustedProxies.text());
  }
  listeningAddress_ = where->hostPort();
  std::string details = fmt::format(
      "workers={}, accept={}, {}, max-frame={}, "
      "echo={}, payload-encoding={}, proxy-protocol={}, tls={}, log-file={}, max-connections={}, "
      "max-fds={}, pid={}",
      options_.workers, acceptMode_, describeFraming(options_.framing), options_.maxFrameBytes,
      options_.echo ? "on" : "off", options_.payloadEncoding, proxy,
      !options_.tls()                ? "off"
      : options_.tlsClientCa.empty() ? "on"
                                     : "on with client certificates",
      options_.logFile.empty() ? "-" : options_.logFile,
      options_.maxConnections == 0 ? std::string("unlimited")
                                   : std::to_string(options_.maxConnections),
      maxDescriptors_,
#ifdef _WIN32
      0
#else
      static_cast<long>(getpid())
#endif
  );
  std::string line;
  LogEvents(options_.logFormat).appendListening(line, where->hostPort(), where->port, details);
  log_->info(std::string_view(line));
  return true;
}

// --metrics HOST:PORT: the HTTP responder on the control loop, after the
// workers listen. Any failure is fatal (exit 2), like a bad argument.
bool Server::startMetrics() {
  if (options_.metricsAddress.empty()) return true;
  auto fail = [this](const std::string& what) {
    log_->error("[tcp server] {}", what);
    std::fprintf(stderr, "uvframe-server: %s\n", what.c_str());
    return false;
  };
  std::string host;
  std::string error;
  std::uint16_t port = 0;
  if (!splitHostPort(options_.metricsAddress, host, port, error)) {
    return fail("bad --metrics " + options_.metricsAddress + ": " + error);
  }
  auto where = resolveHost(loop_.get(), host, error);
  if (!where) return fail("cannot resolve --metrics host " + host + ": " + error);
  where->port = port;
  sockaddr_storage addr{};
  parseNumericAddress(where->ip, where->port, &addr, sizeof addr);
  metrics_ = std::make_unique<HttpResponder>(
      loop_.get(), [this](std::string_view path) { return answerHttp(path); });
  try {
    metrics_->listen(reinterpret_cast<sockaddr*>(&addr));
  } catch (const std::exception& e) {
    return fail("cannot listen for --metrics on " + where->hostPort() + ": " + e.what());
  }
  where->port = metrics_->boundPort();
  log_->info("[tcp server] metrics on http://{}/metrics", where->hostPort());
  return true;
}

// GET /metrics: the counters summed now; /healthz: 503 once draining.
HttpResponse Server::answerHttp(std::string_view path) {
  if (path == "/metrics") {
    MetricsSnapshot s;
    s.counters = totals();
    s.connections = shared_.openConnections.load(std::memory_order_relaxed);
    s.logLines = writer_->linesHandedOver();
    s.logLostBytes = writer_->counters().bytesLost;
    s.startTimeSeconds = startUnixSeconds_;
    return {200, kMetricsContentType, renderMetrics(s)};
  }
  if (path == "/healthz") {
    return stopping_ ? HttpResponse{503, "text/plain; charset=utf-8", "draining\n"}
                     : HttpResponse{200, "text/plain; charset=utf-8", "ok\n"};
  }
  return {404, "text/plain; charset=utf-8", "not found; try /metrics or /healthz\n"};
}

void Server::onSignal(uv_signal_t* handle, int signum) noexcept {
  ownerOf<Server>(handle)->handleSignal(signum);
}

void Server::handleSignal(int signum) {
#ifdef SIGHUP
  if (signum == SIGHUP && !kHangupDrains) {
    reloadTls();
    // The writer reopens on its thread; the outcome is logged when it says
    // how it went (handleReopenDone), not before.
    writer_->requestReopen();
    return;
  }
#endif
  beginShutdown(signum);
}

// SIGHUP with --tls-cert: the certificate and key are read again (a renewed
// pair takes effect for new connections; open ones keep theirs). A pair that
// does not load or fit keeps the old one.
void Server::reloadTls() {
  std::shared_ptr<TlsContext> current = shared_.tls.get(0);
  if (!current) return;
  std::string error;
  std::shared_ptr<TlsContext> first = current->reloaded(error);
  SharedTlsContext::Contexts fresh;
  if (first) fresh = SharedTlsContext::perWorker(first, options_.workers, error);
  if (fresh.empty()) {
    log_->warn(
        "[tcp server] SIGHUP: cannot reload the TLS certificate and key: {}; still using "
        "the old ones",
        error);
    return;
  }
  shared_.tls.set(std::move(fresh));
  log_->info("[tcp server] SIGHUP: TLS certificate '{}' and key '{}' reloaded", options_.tlsCert,
             options_.tlsKey);
}

void Server::beginShutdown(int signum) {
  if (stopping_) return;
  stopping_ = true;
  // The watchdog goes first: nothing after this line may block the promise
  // of an exit within --drain-timeout plus a second.
  auto now = std::chrono::steady_clock::now();
  auto drain =
      std::chrono::milliseconds(static_cast<std::int64_t>(options_.drainTimeoutSeconds * 1000));
  shutdownDeadline_ = now + drain + std::chrono::milliseconds(900);
  watchdog_.arm(*writer_, now + drain + std::chrono::milliseconds(700), shutdownDeadline_);
  // The control logger never waits for the log, so this line cannot hold
  // the shutdown up; it comes first so that it precedes the drain's lines.
  log_->info(
      "[tcp server] shutting down on {}: no new connections; logging what {} connections "
      "already sent (at most --drain-timeout {}s), then closing them",
      signalName(signum), shared_.openConnections.load(std::memory_order_relaxed),
      options_.drainTimeoutSeconds);
  notifier_.stopping(fmt::format("draining after {} (at most {}s)", signalName(signum),
                                 options_.drainTimeoutSeconds));
  for (auto& w : workers_)
    w->requestStop(now + drain);
  // A second SIGINT/SIGTERM meanwhile gets the default action (exit at once);
  // SIGHUP keeps working during the drain.
  uv_close(reinterpret_cast<uv_handle_t*>(&sigint_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigterm_), nullptr);
  if (kBreakSignal != 0) uv_close(reinterpret_cast<uv_handle_t*>(&sigbreak_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&statsTimer_), nullptr);
  if (workers_.empty()) handleWorkerDone();
}

void Server::onReopenDone(uv_async_t* async) noexcept {
  ownerOf<Server>(async)->handleReopenDone();
}

void Server::handleReopenDone() {
  std::vector<std::string> results;
  {
    std::lock_guard lock(reopenMutex_);
    results.swap(reopenErrors_);
  }
  for (const std::string& error : results) {
    if (error.empty()) {
      log_->info("[tcp server] SIGHUP: log file '{}' reopened", options_.logFile);
    } else {
      log_->warn(
          "[tcp server] SIGHUP: cannot reopen log file '{}': {}; still writing to the old one",
          options_.logFile, error);
    }
  }
}

void Server::onWorkerDone(uv_async_t* async) noexcept {
  ownerOf<Server>(async)->handleWorkerDone();
}

void Server::handleWorkerDone() {
  if (workersDone_.load() < workers_.size()) return;
  // Every worker has ended: the control loop ends too. The handles are
  // unreferenced, not closed: closing the SIGHUP watcher would give SIGHUP
  // its default action (exit) while the final lines are still being written;
  // the loop's owner closes them when the server goes away.
  uv_unref(reinterpret_cast<uv_handle_t*>(&sighup_));
  uv_unref(reinterpret_cast<uv_handle_t*>(&reopenDone_));
  uv_unref(reinterpret_cast<uv_handle_t*>(&workerDone_));
  // The responder answered (503 to /healthz) through the drain; it must not
  // keep the loop, nor the process, alive now.
  if (metrics_) metrics_->close();
}

void Server::onStatsTimer(uv_timer_t* timer) noexcept {
  ownerOf<Server>(timer)->logStats(false);
}

CounterTotals Server::totals() const {
  CounterTotals t;
  for (const auto& w : workers_)
    t.add(w->counters());
  return t;
}

void Server::logStats(bool final) {
  std::uint64_t now = uv_now(loop_.get());
  if (final) {
    uv_update_time(loop_.get());
    now = uv_now(loop_.get());
  }
  CounterTotals t = totals();
  double interval = static_cast<double>(now - lastStatsMs_) / 1000.0;
  if (final) interval = static_cast<double>(now - startMs_) / 1000.0;
  const CounterTotals& base = final ? CounterTotals{} : lastTotals_;
  double fps = interval > 0 ? static_cast<double>(t.frames - base.frames) / interval : 0.0;
  double mbps = interval > 0 ? static_cast<double>(t.bytes - base.bytes) / interval / 1e6 : 0.0;
  LogWriter::Counters lc = writer_->counters();  // bytesLost: file and console
  std::string stats = fmt::format(
      "connections={}, accepted={}, refused={}, frames={}, bytes={}, errors={}, "
      "protocol_errors={}, timeouts={}, resets={}, frames_per_s={:.0f}, mb_per_s={:.2f}, "
      "input_memory={}, memory_stalls={}, rate_pauses={}, log_lost_bytes={}, uptime={:.1f}s{}",
      shared_.openConnections.load(std::memory_order_relaxed), t.accepted, t.refused, t.frames,
      t.bytes, t.errors(), t.protocolErrors, t.timeouts, t.resets, fps, mbps, t.inputMemoryBytes,
      t.memoryStalls, t.ratePauses, lc.bytesLost, static_cast<double>(now - startMs_) / 1000.0,
      final ? ", final=true" : "");
  std::string line;
  LogEvents(options_.logFormat).appendStats(line, stats);
  log_->info(std::string_view(line));
  // systemctl status shows the latest one.
  if (!final) notifier_.status(stats);
  lastTotals_ = t;
  lastStatsMs_ = now;
}

}  // namespace uvframe
