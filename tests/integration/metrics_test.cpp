// --metrics HOST:PORT against the real server (SPEC "Metrics and health"):
// the counters of GET /metrics match the traffic exactly (polled with a
// deadline: they are summed per scrape, a moment behind the workers),
// `promtool check metrics` finds nothing, /healthz says 200 while accepting
// and 503 while draining, bad requests get 400/404/405/431, silent HTTP
// clients cannot lock a scraper out, and a real Prometheus scrapes it.
// Every HTTP exchange is a plain socket: request out, read to EOF.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>

#include "server_process.h"
#include "test_socket.h"

namespace uvframe::test {
namespace {

using Clock = std::chrono::steady_clock;

// Joins a helper thread however the test ends; shutting down the socket it
// sends on first wakes it from a blocked send().
struct JoinOnExit {
  std::thread thread;
  int shutdownFd = -1;
  ~JoinOnExit() {
    if (shutdownFd >= 0) ::shutdown(shutdownFd, SHUT_RDWR);
    if (thread.joinable()) thread.join();
  }
};

struct HttpReply {
  int status = 0;
  std::string head;  ///< status line and headers
  std::string body;
};

// Sends request on a new connection and reads the answer until the server
// closes; nullopt on a connect failure, a close without an answer, or the
// deadline.
std::optional<HttpReply> httpExchange(std::uint16_t port, std::string_view request,
                                      std::chrono::milliseconds timeout = 10s) {
  std::optional<TestSocket> s;
  try {
    s.emplace(TestSocket::connect("127.0.0.1", port));
  } catch (const std::exception&) {
    return std::nullopt;
  }
  s->sendAll(request);
  auto deadline = Clock::now() + timeout;
  std::string all;
  char buf[16384];
  while (true) {
    if (!waitReadable(s->fd(), deadline)) return std::nullopt;
    ssize_t n = ::recv(s->fd(), buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::nullopt;
    }
    all.append(buf, static_cast<std::size_t>(n));
  }
  auto end = all.find("\r\n\r\n");
  if (all.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos) return std::nullopt;
  HttpReply r;
  r.status = std::atoi(all.c_str() + 9);
  r.head = all.substr(0, end);
  r.body = all.substr(end + 4);
  return r;
}

std::optional<HttpReply> get(std::uint16_t port, const std::string& target,
                             std::chrono::milliseconds timeout = 10s) {
  return httpExchange(
      port, "GET " + target + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n", timeout);
}

// The value of one series ("name" or "name{label=\"…\"}") in a scrape.
std::optional<double> value(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return std::nullopt;
}

std::uint16_t metricsPort(ServerProcess& server) {
  auto line = server.process().waitForText("metrics on http://");
  if (!line) return 0;
  std::smatch m;
  static const std::regex re("metrics on http://127\\.0\\.0\\.1:(\\d+)/metrics$");
  return std::regex_search(*line, m, re) ? static_cast<std::uint16_t>(std::stoi(m[1])) : 0;
}

// A program on PATH, or "" (ChildProcess execs a full path).
std::string onPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

// A port free on 127.0.0.1 a moment ago (for a child that cannot report the
// one it bound).
std::uint16_t freePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    return 0;
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

// Scrapes until every expected series has its value (or the deadline);
// returns the last scrape.
std::string scrapeUntil(std::uint16_t port, const std::map<std::string, double>& expected,
                        std::chrono::milliseconds timeout = 20s) {
  auto deadline = Clock::now() + timeout;
  std::string text;
  while (true) {
    auto r = get(port, "/metrics");
    if (r && r->status == 200) {
      text = r->body;
      bool all = true;
      for (const auto& [series, want] : expected)
        all = all && value(text, series) == want;
      if (all || Clock::now() >= deadline) return text;
    } else if (Clock::now() >= deadline) {
      return text;
    }
    std::this_thread::sleep_for(20ms);
  }
}

TEST(Metrics, CountersMatchTheTrafficExactly) {
  ServerProcess server({"--workers", "2", "--max-frame", "2MiB", "--metrics", "127.0.0.1:0"});
  std::uint16_t port = metricsPort(server);
  ASSERT_NE(port, 0) << server.process().output();

  // Payload sizes chosen to land in the histogram's buckets and past them.
  const std::vector<std::vector<std::size_t>> peerClosed = {
      {0, 16, 17}, {64, 65, 1000}, {5000, 300000, 1500000}};
  std::uint64_t frames = 0, bytes = 0;
  for (const auto& sizes : peerClosed) {
    TestSocket s = TestSocket::connect("127.0.0.1", server.port());
    for (std::size_t n : sizes) {
      s.sendFrame(std::string(n, 'x'));
      ++frames;
      bytes += 4 + n;
    }
  }
  {
    // One frame, then a header announcing 3 MiB: frame too large.
    TestSocket s = TestSocket::connect("127.0.0.1", server.port());
    s.sendAll(frameBytes("d") + frameBytes(std::string()).replace(0, 4, "\x00\x00\x30\x00", 4));
    frames += 1;
    bytes += 5 + 4;
    ASSERT_TRUE(s.waitClosedByPeer()) << server.process().output();
  }
  {
    // Two frames, counted, then a reset.
    TestSocket s = TestSocket::connect("127.0.0.1", server.port());
    s.sendFrame("reset-me");
    s.sendFrame("reset-me");
    frames += 2;
    bytes += 2 * 12;
    std::string text = scrapeUntil(port, {{"uvframe_frames_received_total", double(frames)}});
    ASSERT_EQ(value(text, "uvframe_frames_received_total"), double(frames)) << text;
    s.setResetOnClose();
  }

  std::map<std::string, double> expected = {
      {"uvframe_connections", 0},
      {"uvframe_connections_accepted_total", 5},
      {"uvframe_connections_refused_total{reason=\"connection limit\"}", 0},
      {"uvframe_connections_refused_total{reason=\"not allowed\"}", 0},
      {"uvframe_connections_closed_total{reason=\"peer closed\"}", 3},
      {"uvframe_connections_closed_total{reason=\"frame too large\"}", 1},
      {"uvframe_connections_closed_total{reason=\"reset\"}", 1},
      {"uvframe_connections_closed_total{reason=\"idle timeout\"}", 0},
      {"uvframe_connections_closed_total{reason=\"server shutdown\"}", 0},
      {"uvframe_frames_received_total", double(frames)},
      {"uvframe_bytes_received_total", double(bytes)},
      {"uvframe_protocol_errors_total", 1},
      {"uvframe_timeouts_total", 0},
      {"uvframe_input_memory_bytes", 0},
      {"uvframe_log_lost_bytes_total", 0},
      {"uvframe_build_info{version=\"0.1.0\"}", 1},
      // Sizes 0 16 1 8 8 | 17 64 | 65 | 1000 | - | 5000 | - | - | 300000 | 1500000.
      {"uvframe_frame_size_bytes_bucket{le=\"16\"}", 5},
      {"uvframe_frame_size_bytes_bucket{le=\"64\"}", 7},
      {"uvframe_frame_size_bytes_bucket{le=\"256\"}", 8},
      {"uvframe_frame_size_bytes_bucket{le=\"1024\"}", 9},
      {"uvframe_frame_size_bytes_bucket{le=\"4096\"}", 9},
      {"uvframe_frame_size_bytes_bucket{le=\"16384\"}", 10},
      {"uvframe_frame_size_bytes_bucket{le=\"65536\"}", 10},
      {"uvframe_frame_size_bytes_bucket{le=\"262144\"}", 10},
      {"uvframe_frame_size_bytes_bucket{le=\"1048576\"}", 11},
      {"uvframe_frame_size_bytes_bucket{le=\"+Inf\"}", 12},
      {"uvframe_frame_size_bytes_count", 12},
      {"uvframe_frame_size_bytes_sum",
       0 + 16 + 17 + 64 + 65 + 1000 + 5000 + 300000 + 1500000 + 1 + 8 + 8},
  };
  std::string text = scrapeUntil(port, expected);
  for (const auto& [series, want] : expected) {
    EXPECT_EQ(value(text, series), want) << series << "\n" << text;
  }
  // Every reason has its series, even at 0; no label carries an address.
  std::istringstream lines(text);
  std::size_t reasons = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("uvframe_connections_closed_total{", 0) == 0) ++reasons;
    EXPECT_EQ(line.find("127.0.0.1"), std::string::npos) << line;
  }
  EXPECT_GE(reasons, 10u) << text;
  // Log lines: every message, and a connected and a disconnected line per
  // client, are handed over within a second or so (the sinks flush on a timer).
  double wantLines = double(frames) + 2 * 5;
  auto deadline = Clock::now() + 20s;
  while (value(text, "uvframe_log_lines_total").value_or(0) < wantLines &&
         Clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
    if (auto r = get(port, "/metrics")) text = r->body;
  }
  EXPECT_GE(value(text, "uvframe_log_lines_total").value_or(0), wantLines) << text;
  EXPECT_GT(value(text, "uvframe_start_time_seconds").value_or(0), 1.7e9) << text;
  EXPECT_GT(value(text, "process_resident_memory_bytes").value_or(0), 0) << text;

  // promtool, Prometheus' own linter, finds nothing to say.
  std::string promtool = onPath("promtool");
  if (promtool.empty()) GTEST_SKIP() << "promtool not installed (scripts/setup.sh installs it)";
  ChildProcess check({promtool, "check", "metrics"}, {.maxOpenFiles = 0, .pipeStdin = true});
  check.writeStdin(text);
  check.closeStdin();
  EXPECT_EQ(check.waitExit(60s), 0) << check.output();
  EXPECT_EQ(check.output(), "");
}

TEST(Metrics, HealthzAndHttpErrors) {
  ServerProcess server({"--workers", "1", "--metrics", "127.0.0.1:0"});
  std::uint16_t port = metricsPort(server);
  ASSERT_NE(port, 0) << server.process().output();

  auto health = get(port, "/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "ok\n");

  auto metrics = get(port, "/metrics?x=1");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->head.find("Content-Type: text/plain; version=0.0.4"), std::string::npos)
      << metrics->head;
  EXPECT_NE(metrics->head.find("Connection: close"), std::string::npos) << metrics->head;

  auto head = httpExchange(port, "HEAD /metrics HTTP/1.1\r\nHost: test\r\n\r\n");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->body, "");
  EXPECT_NE(head->head.find("Content-Length: "), std::string::npos) << head->head;

  auto missing = get(port, "/nothing-here");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);

  // A body it never reads must not turn the close into a reset that eats
  // the answer.
  auto post =
      httpExchange(port, "POST /metrics HTTP/1.1\r\nHost: test\r\nContent-Length: 5000\r\n\r\n" +
                             std::string(5000, 'b'));
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  EXPECT_NE(post->head.find("Allow: GET, HEAD"), std::string::npos) << post->head;

  auto bad = httpExchange(port, "GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);

  auto framed = httpExchange(port, frameBytes("not http at all"));
  ASSERT_TRUE(framed);
  EXPECT_EQ(framed->status, 400);

  auto big =
      httpExchange(port, "GET /metrics HTTP/1.1\r\nX-Big: " + std::string(9000, 'a') + "\r\n\r\n");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 431);
}

TEST(Metrics, SilentClientsCannotLockAScraperOut) {
  ServerProcess server({"--workers", "1", "--metrics", "127.0.0.1:0"});
  std::uint16_t port = metricsPort(server);
  ASSERT_NE(port, 0) << server.process().output();

  // 100 clients that never send, and a slowloris that sends a byte a time.
  std::vector<TestSocket> silent;
  for (int i = 0; i < 100; ++i)
    silent.push_back(TestSocket::connect("127.0.0.1", port));
  TestSocket slow = TestSocket::connect("127.0.0.1", port);
  slow.sendAll("G");
  slow.sendAll("E");

  // Answered within a deadline shorter than the responder's own (5 s), so
  // the answer cannot have waited for the silent ones to time out.
  auto r = get(port, "/metrics", 4s);
  ASSERT_TRUE(r) << "no answer while 100 silent clients were connected";
  EXPECT_EQ(r->status, 200);
  auto h = get(port, "/healthz", 4s);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);

  // The silent ones are closed: evicted for newcomers or past the deadline.
  EXPECT_TRUE(silent.back().waitClosedByPeer(30s));
  EXPECT_TRUE(slow.waitClosedByPeer(30s));
}

TEST(Metrics, BadMetricsAddressExitsTwo) {
  for (std::string bad : {"nonsense", "127.0.0.1:99999", "203.0.113.1:0"}) {
    ChildProcess p(
        {programPath("uvframe-server"), "--port", "0", "--host", "127.0.0.1", "--metrics", bad});
    EXPECT_EQ(p.waitExit(20s), 2) << bad << "\n" << p.output();
    EXPECT_FALSE(p.linesContaining("--metrics").empty()) << bad << "\n" << p.output();
  }
}

// The log is a FIFO this test does not read: once the log writer's blocks
// and the pipe are full, the worker waits for the log and cannot finish a
// drain, while the control loop (whose logger never waits) still answers.
TEST(Metrics, HealthzSays503WhileDraining) {
  TempDir dir;
  std::string fifo = dir.file("server.log");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  int logFd = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(logFd, 0);
  ChildProcess server({programPath("uvframe-server"), "--port", "0", "--host", "127.0.0.1",
                       "--workers", "1", "--no-console", "--log-file", fifo, "--stats-interval",
                       "0", "--drain-timeout", "10", "--metrics", "127.0.0.1:0"});
  // Read the log only up to the listening and metrics lines.
  std::string log;
  std::smatch m;
  static const std::regex listening("listening on 127\\.0\\.0\\.1:(\\d+) ");
  static const std::regex metricsLine("metrics on http://127\\.0\\.0\\.1:(\\d+)/metrics");
  auto deadline = Clock::now() + 20s;
  while (!std::regex_search(log, metricsLine) && Clock::now() < deadline) {
    char buf[4096];
    if (!waitReadable(logFd, deadline)) break;
    ssize_t n = ::read(logFd, buf, sizeof buf);
    if (n > 0) log.append(buf, static_cast<std::size_t>(n));
    if (n == 0) std::this_thread::sleep_for(10ms);  // no writer yet
  }
  ASSERT_TRUE(std::regex_search(log, m, listening)) << log << server.output();
  auto serverPort = static_cast<std::uint16_t>(std::stoi(m[1]));
  ASSERT_TRUE(std::regex_search(log, m, metricsLine)) << log << server.output();
  auto port = static_cast<std::uint16_t>(std::stoi(m[1]));

  // Empty frames: 4 wire bytes, a ~60-byte log line each. 400 KB is 100,000
  // lines, far more than the log's buffers (about 2 MiB) and the pipe hold.
  TestSocket blaster = TestSocket::connect("127.0.0.1", serverPort);
  std::string frames;
  for (int i = 0; i < 100000; ++i)
    frames += frameBytes("");
  JoinOnExit sender{std::thread([&] {
                      std::size_t off = 0;
                      while (off < frames.size()) {
                        ssize_t n = ::send(blaster.fd(), frames.data() + off, frames.size() - off,
                                           MSG_NOSIGNAL);
                        if (n <= 0 && errno != EINTR) return;
                        if (n > 0) off += static_cast<std::size_t>(n);
                      }
                    }),
                    blaster.fd()};
  // Blocked: neither the bytes received nor the lines handed to the log move
  // for half a second although more bytes wait (a worker that is merely slow
  // hands a block of lines over every thousand lines or so).
  std::pair<double, double> last{-1, -1};
  int still = 0;
  deadline = Clock::now() + 60s;
  while (still < 5 && Clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
    auto r = get(port, "/metrics");
    ASSERT_TRUE(r) << server.output();
    std::pair<double, double> now{value(r->body, "uvframe_bytes_received_total").value_or(0),
                                  value(r->body, "uvframe_log_lines_total").value_or(0)};
    ASSERT_LT(now.first, double(frames.size()))
        << "the server logged everything: the log never blocked";
    still = now.first > 0 && now == last ? still + 1 : 0;
    last = now;
  }
  ASSERT_EQ(still, 5) << "the server never stopped reading; " << server.output();

  auto before = get(port, "/healthz");
  ASSERT_TRUE(before);
  EXPECT_EQ(before->status, 200);
  server.sendSignal(SIGTERM);
  // Draining until the log moves again (or --drain-timeout ends it).
  std::optional<HttpReply> during;
  deadline = Clock::now() + 8s;
  while (Clock::now() < deadline) {
    during = get(port, "/healthz", 5s);
    if (!during || during->status != 200) break;
    std::this_thread::sleep_for(10ms);  // the signal may not have arrived yet
  }
  ASSERT_TRUE(during) << "no answer during the drain; " << server.output();
  EXPECT_EQ(during->status, 503);
  EXPECT_EQ(during->body, "draining\n");
  auto scrape = get(port, "/metrics", 5s);
  ASSERT_TRUE(scrape);
  EXPECT_EQ(scrape->status, 200);

  // Let the log go: the drain finishes, the server exits 0.
  std::atomic<bool> done{false};
  {
    JoinOnExit reader{std::thread([&] {
      char buf[65536];
      while (!done) {
        pollfd p{logFd, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        if (::read(logFd, buf, sizeof buf) == 0) std::this_thread::sleep_for(10ms);
      }
    })};
    auto rc = server.waitExit(60s);
    done = true;
    EXPECT_EQ(rc, 0) << server.output();
  }
  ::close(logFd);
  // Closed with the control loop: nothing listens any more.
  EXPECT_FALSE(get(port, "/healthz", 2s));
}

TEST(Metrics, PrometheusScrapesIt) {
  std::string prometheus = onPath("prometheus");
  if (prometheus.empty()) {
    GTEST_SKIP() << "Debian's prometheus is not installed (scripts/setup.sh installs it)";
  }
  ServerProcess server({"--workers", "2", "--metrics", "127.0.0.1:0"});
  std::uint16_t port = metricsPort(server);
  ASSERT_NE(port, 0) << server.process().output();
  const int kFrames = 7;
  {
    TestSocket s = TestSocket::connect("127.0.0.1", server.port());
    for (int i = 0; i < kFrames; ++i)
      s.sendFrame("scraped " + std::to_string(i));
  }

  TempDir dir;
  std::uint16_t webPort = freePort();
  ASSERT_NE(webPort, 0);
  {
    std::ofstream config(dir.file("prometheus.yml"));
    config << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
              "scrape_configs:\n  - job_name: uvframe\n    static_configs:\n"
              "      - targets: ['127.0.0.1:"
           << port << "']\n";
  }
  ChildProcess prom({prometheus, "--config.file=" + dir.file("prometheus.yml"),
                     "--storage.tsdb.path=" + dir.file("data"),
                     "--web.listen-address=127.0.0.1:" + std::to_string(webPort),
                     "--log.level=warn"});
  static const std::regex result("\"value\":\\[[0-9.]+,\"([0-9.e+]+)\"\\]");
  std::string lastBody;
  bool seen = false;
  auto deadline = Clock::now() + 60s;
  while (!seen && Clock::now() < deadline && !prom.waitExit(0ms)) {
    auto r = get(webPort, "/api/v1/query?query=uvframe_frames_received_total", 5s);
    if (r) {
      lastBody = r->body;
      std::smatch m;
      seen = std::regex_search(lastBody, m, result) && std::stod(m[1]) == kFrames;
    }
    if (!seen) std::this_thread::sleep_for(200ms);
  }
  EXPECT_TRUE(seen) << "last answer: " << lastBody << "\nprometheus: " << prom.output();
  prom.sendSignal(SIGTERM);
  EXPECT_TRUE(prom.waitExit(30s)) << prom.output();
}

}  // namespace
}  // namespace uvframe::test
