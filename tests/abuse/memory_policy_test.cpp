// The memory budget (--max-input-memory) with --echo, where a frame larger
// than one receive chunk makes its connection grow. SPEC: "a peer paused for
// memory stays subject to its timeouts; an idle peer or a new one is never
// starved for good, and no worker wedges, whatever other peers hold."
//
// The wedge these tests catch: peers that each hold a chunk and need to grow
// for a large frame are all paused once the budget is spent; a paused peer
// that skips its timeouts (and whose FIN or RST goes unseen because a stopped
// libuv socket leaves epoll) never gives its chunk back, so nothing is freed
// and every peer that needs its first chunk (a newcomer) waits forever. One
// worker and a 1 MiB budget of 64 KiB chunks make it a matter of 16 peers:
// crafted ones that never finish their frame, or honest ones whose large
// frames arrive in pieces, all starting together, so that every first piece
// takes a chunk before any second piece asks to grow.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <iostream>
#include <map>
#include <regex>

#include "abuse_support.h"
#include "server_process.h"
#include "test_socket.h"

namespace uvframe::test {
namespace {

constexpr std::size_t kKiB = 1024;
constexpr std::size_t kChunkBytes = 64 * kKiB;     // --read-buffer
constexpr std::size_t kBudgetBytes = 1024 * kKiB;  // --max-input-memory, one worker
constexpr std::uint32_t kAnnouncedBytes = 200 * kKiB;
constexpr int kCraftedPeers = 30;  // their first chunks alone pass the budget

double seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

std::vector<std::string> serverArgs(const std::string& frameTimeoutSeconds) {
  std::vector<std::string> args{"--workers", "1", "--echo", "--frame-timeout", frameTimeoutSeconds};
  args.insert(args.end(), {"--max-frame", "256KiB", "--read-buffer", "64KiB"});
  args.insert(args.end(), {"--max-input-memory", "1MiB", "--stats-interval", "1"});
  args.insert(args.end(), {"--max-logged-bytes", "64"});
  return args;
}

// The per-worker budget the server really uses: --max-input-memory over one
// worker, unless the server says it had to raise it.
std::size_t budgetInUse(ChildProcess& out) {
  static const std::regex kRaised(R"(using (\d+) bytes per worker)");
  for (const auto& line : out.linesContaining("bytes per worker")) {
    std::smatch m;
    if (std::regex_search(line, m, kRaised)) return std::stoull(m[1].str());
  }
  return kBudgetBytes;
}

/// The figures of a stats line these tests read.
struct StatsFigures {
  std::uint64_t inputMemory = 0;
  std::uint64_t memoryStalls = 0;
};

/// Reads the server's stats lines as they come.
class StatsReader {
 public:
  explicit StatsReader(ChildProcess& out) : out_(out) {}

  /// The figures of the first stats line not seen before that satisfies
  /// pred, or nullopt at the deadline. Lines seen (matching or not) are
  /// skipped next time.
  std::optional<StatsFigures> next(const std::function<bool(const StatsFigures&)>& pred,
                                   std::chrono::milliseconds timeout) {
    std::optional<StatsFigures> found;
    out_.waitUntil(
        [&](const std::vector<std::string>& lines) {
          for (; seen_ < lines.size() && !found; ++seen_) {
            if (lines[seen_].find("[tcp server] stats: ") == std::string::npos) continue;
            last_ = StatsFigures{figure(lines[seen_], "input_memory="),
                                 figure(lines[seen_], "memory_stalls=")};
            if (pred(*last_)) found = last_;
          }
          return found.has_value();
        },
        timeout);
    return found;
  }
  /// The figures of the next stats line, whatever they are.
  std::optional<StatsFigures> next(std::chrono::milliseconds timeout) {
    return next([](const StatsFigures&) { return true; }, timeout);
  }
  /// input_memory of the last stats line seen (0 if none).
  std::uint64_t lastInputMemory() const { return last_ ? last_->inputMemory : 0; }

 private:
  static std::uint64_t figure(const std::string& line, const std::string& key) {
    auto at = line.find(key);
    return at == std::string::npos ? 0 : std::strtoull(line.c_str() + at + key.size(), nullptr, 10);
  }

  ChildProcess& out_;
  std::size_t seen_ = 0;
  std::optional<StatsFigures> last_;
};

std::string lastStatsLine(ChildProcess& out) {
  auto lines = out.linesContaining("[tcp server] stats: ");
  return lines.empty() ? std::string("none") : lines.back();
}

std::string disconnectedTag(const TestSocket& s) {
  return "client disconnected: ip=127.0.0.1, port=" + std::to_string(s.localPort()) + " (";
}

// Opens the crafted peers and wedges the budget: each announces a 200 KiB
// frame and sends a first piece that fits one chunk, so the server lends a
// chunk to as many as the budget covers and refuses the rest. Once it has
// (a stats line says so), each sends 10 KiB more: every chunk holder now
// needs to grow and cannot. Then they stall, never finishing the frame and
// never reading.
std::vector<TestSocket> wedgeTheBudget(const ServerProcess& server, StatsReader& stats) {
  const std::string firstPiece = littleEndianHeader(kAnnouncedBytes) + std::string(60 * kKiB, 'g');
  std::vector<TestSocket> peers;
  for (int i = 0; i < kCraftedPeers; ++i) {
    peers.push_back(TestSocket::connect("127.0.0.1", server.port()));
    peers.back().sendAll(firstPiece);
  }
  // Setup, not a check: the stats line's names are not part of the contract.
  stats.next([](const StatsFigures& f) { return f.inputMemory > 0 && f.memoryStalls > 0; }, 5s);
  // A server may already have closed some (their frame timeout runs): a
  // failed send is fine.
  const std::string secondPiece(10 * kKiB, 'g');
  for (auto& p : peers)
    ::send(p.fd(), secondPiece.data(), secondPiece.size(), MSG_NOSIGNAL);
  return peers;
}

TEST(AbuseMemoryPolicy, CraftedGrowersDoNotStarveANewcomer) {
  ServerProcess server(serverArgs("3"));
  ChildProcess& out = server.process();
  StatsReader stats(out);
  const std::size_t budget = budgetInUse(out);
  std::vector<TestSocket> crafted = wedgeTheBudget(server, stats);
  auto wedgedAt = Clock::now();

  // A newcomer with one small frame: logged and echoed, at the latest once
  // the crafted peers' frame timeout has closed them.
  TestSocket newcomer = TestSocket::connect("127.0.0.1", server.port());
  const std::string hello = "newcomer after the growers";
  newcomer.sendFrame(hello);
  auto echo = newcomer.recvFrame(ByteOrder::kLittle, 20s);
  ASSERT_TRUE(echo) << "newcomer not served in 20 s; input_memory=" << stats.lastInputMemory()
                    << " of " << budget << ", "
                    << countContaining(out.lines(), "reason=frame timeout") << " of "
                    << kCraftedPeers << " crafted peers closed";
  double servedS = seconds(Clock::now() - wedgedAt);
  EXPECT_EQ(*echo, hello);
  ASSERT_TRUE(out.waitForText("] " + hello, 5s));

  // Every crafted peer is closed by its frame timeout, paused or not (those
  // the server never read from get memory, and a frame timeout, once the
  // first ones are gone).
  std::vector<int> fds;
  for (const auto& p : crafted)
    fds.push_back(p.fd());
  auto closedAt = waitAllClosedByPeer(fds, 25s);
  double lastClosedS = 0;
  for (std::size_t i = 0; i < crafted.size(); ++i) {
    ASSERT_TRUE(closedAt[i]) << "crafted peer " << i << " was never closed";
    lastClosedS = std::max(lastClosedS, seconds(*closedAt[i] - wedgedAt));
    std::string tag = disconnectedTag(crafted[i]);
    ASSERT_TRUE(out.waitForText(tag, 5s)) << tag;
    auto mine = out.linesContaining(tag);
    ASSERT_EQ(mine.size(), 1u);
    EXPECT_NE(mine[0].find("(reason=frame timeout, frames=0, "), std::string::npos) << mine[0];
  }
  // Nothing is left held for them (the newcomer is idle and holds nothing).
  EXPECT_TRUE(stats.next([](const StatsFigures& f) { return f.inputMemory < kChunkBytes; }, 5s))
      << "input_memory stays at " << stats.lastInputMemory();
  EXPECT_TRUE(out.linesContaining(disconnectedTag(newcomer)).empty());
  std::cout << "[ measured ] budget " << budget << " B, " << kCraftedPeers
            << " crafted growers: newcomer served after " << servedS
            << " s; last crafted peer closed after " << lastClosedS << " s (--frame-timeout 3)\n";
}

// One honest echo client: the frames it sends, back to back, and what has
// come back so far.
struct EchoClient {
  TestSocket socket;
  std::string toSend;
  std::size_t sentBytes = 0;
  std::string received;
  bool failed = false;  ///< the connection broke
};

std::string payloadFor(int client, int frame, std::size_t bytes) {
  std::string p = "client=" + std::to_string(client) + " frame=" + std::to_string(frame) + " ";
  for (std::size_t i = p.size(); i < bytes; ++i)
    p.push_back(
        static_cast<char>('a' + (i * 7 + static_cast<std::size_t>(client * 5 + frame)) % 26));
  return p;
}

void setNonBlocking(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

// Each client writes its frames in 16 KiB pieces, one piece every 5 ms, as
// clients on a slower path than loopback deliver them, all starting
// together; each reads its echoes as they come. The pacing is the clients'
// behaviour under test, not synchronisation.
constexpr std::size_t kPieceBytes = 16 * kKiB;
constexpr auto kPieceInterval = std::chrono::milliseconds(5);

void sendPiece(EchoClient& c) {
  std::size_t piece = std::min(c.toSend.size() - c.sentBytes, kPieceBytes);
  if (piece == 0 || c.failed) return;
  ssize_t n = ::send(c.socket.fd(), c.toSend.data() + c.sentBytes, piece, MSG_NOSIGNAL);
  if (n > 0) c.sentBytes += static_cast<std::size_t>(n);
}

// Reads what has arrived for c; marks it failed when the connection ended.
void receiveSome(EchoClient& c, std::vector<char>& buf) {
  ssize_t n = ::recv(c.socket.fd(), buf.data(), buf.size(), 0);
  if (n > 0) {
    c.received.append(buf.data(), static_cast<std::size_t>(n));
  } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
    c.failed = true;
  }
}

// Drives every client at once (non-blocking sockets, one poll over all of
// them) until each has all its bytes back, or the deadline.
void pumpEchoes(std::vector<EchoClient>& clients, Clock::time_point deadline) {
  std::vector<char> buf(256 * kKiB);
  auto nextPiece = Clock::now();
  while (Clock::now() < deadline) {
    if (Clock::now() >= nextPiece) {
      for (auto& c : clients)
        sendPiece(c);
      nextPiece = std::max(nextPiece + kPieceInterval, Clock::now());
    }
    std::vector<pollfd> fds;
    std::vector<EchoClient*> owners;
    for (auto& c : clients) {
      if (c.failed || c.received.size() >= c.toSend.size()) continue;
      fds.push_back({c.socket.fd(), POLLIN, 0});
      owners.push_back(&c);
    }
    if (fds.empty()) return;
    auto wait =
        std::chrono::ceil<std::chrono::milliseconds>(std::min(nextPiece, deadline) - Clock::now());
    int rc = ::poll(fds.data(), fds.size(), static_cast<int>(std::max<long>(wait.count(), 0)));
    if (rc < 0 && errno != EINTR) return;
    for (std::size_t k = 0; rc > 0 && k < fds.size(); ++k) {
      if (fds[k].revents != 0) receiveSome(*owners[k], buf);
    }
  }
}

TEST(AbuseMemoryPolicy, HonestLargeEchoClientsAllFinish) {
  constexpr int kClients = 24;  // their first chunks alone pass the budget
  constexpr int kFrames = 4;
  constexpr std::size_t kPayloadBytes = 100 * kKiB;  // each frame needs a grown ring
  ServerProcess server(serverArgs("10"));
  ChildProcess& out = server.process();

  std::vector<EchoClient> clients;
  for (int i = 0; i < kClients; ++i) {
    EchoClient c{TestSocket::connect("127.0.0.1", server.port()), {}, 0, {}, false};
    for (int f = 0; f < kFrames; ++f)
      c.toSend += frameBytes(payloadFor(i, f, kPayloadBytes));
    setNonBlocking(c.socket.fd());
    clients.push_back(std::move(c));
  }
  auto start = Clock::now();
  pumpEchoes(clients, start + 25s);
  double tookS = seconds(Clock::now() - start);

  int finished = 0;
  std::size_t echoedBytes = 0;
  for (const auto& c : clients) {
    echoedBytes += c.received.size();
    if (c.received == c.toSend) ++finished;
  }
  auto closedByServer =
      std::count_if(clients.begin(), clients.end(), [](const EchoClient& c) { return c.failed; });
  ASSERT_EQ(finished, kClients) << "only " << finished << " of " << kClients
                                << " clients got every echo in " << tookS << " s ("
                                << echoedBytes / kKiB << " of "
                                << kClients * kFrames * (kPayloadBytes / kKiB) << " KiB echoed, "
                                << closedByServer << " clients closed by the server); last stats: "
                                << lastStatsLine(out);

  // Every frame logged exactly once, in order, under its own peer.
  ASSERT_TRUE(out.waitUntil(
      [&](const std::vector<std::string>& lines) {
        return countContaining(lines, "] client=") == static_cast<std::size_t>(kClients * kFrames);
      },
      10s))
      << countContaining(out.lines(), "] client=") << " message lines";
  for (int i = 0; i < kClients; ++i) {
    auto logged = server.messagesFrom(clients[static_cast<std::size_t>(i)].socket.localHostPort());
    ASSERT_EQ(logged.size(), static_cast<std::size_t>(kFrames)) << "client " << i;
    for (int f = 0; f < kFrames; ++f) {
      EXPECT_EQ(logged[static_cast<std::size_t>(f)].rfind(payloadFor(i, f, 64), 0), 0u)
          << logged[static_cast<std::size_t>(f)];
    }
  }
  EXPECT_TRUE(out.linesContaining("reason=").empty()) << "a client was closed";
  std::cout << "[ measured ] " << kClients << " clients x " << kFrames << " x "
            << kPayloadBytes / kKiB << " KiB echo frames through a 1 MiB budget in " << tookS
            << " s\n";
}

TEST(AbuseMemoryPolicy, PausedPeerHalfCloseIsSeen) {
  constexpr int kFrameTimeoutS = 6;
  ServerProcess server(serverArgs(std::to_string(kFrameTimeoutS)));
  ChildProcess& out = server.process();
  StatsReader stats(out);
  std::vector<TestSocket> crafted = wedgeTheBudget(server, stats);
  auto held = stats.next(3s);

  // Every crafted peer leaves mid-frame: half of them with a FIN (shutdown
  // of the sending side), half with a RST.
  std::vector<std::string> tags;
  for (const auto& p : crafted)
    tags.push_back(disconnectedTag(p));
  auto leftAt = Clock::now();
  for (std::size_t i = 0; i < crafted.size(); ++i) {
    if (i % 2 == 0) {
      crafted[i].shutdownWrite();
    } else {
      crafted[i].setResetOnClose();
      crafted[i].close();
    }
  }
  // Each is closed within its frame timeout (plus the sweep's lag), not held.
  const auto deadline = std::chrono::seconds(kFrameTimeoutS + 8);
  bool allClosed = out.waitUntil(
      [&](const std::vector<std::string>& lines) {
        return countContaining(lines, "client disconnected: ") ==
               static_cast<std::size_t>(kCraftedPeers);
      },
      deadline);
  double closedS = seconds(Clock::now() - leftAt);
  ASSERT_TRUE(allClosed) << countContaining(out.lines(), "client disconnected: ") << " of "
                         << kCraftedPeers << " departed peers closed in " << closedS
                         << " s; input_memory=" << stats.lastInputMemory();
  // The line tells that the peer left (or that its frame timed out first).
  // A RST may read as "peer closed": libuv reports EOF, not ECONNRESET, when
  // the reset arrives behind bytes the server has not read yet.
  static const std::regex kReason(R"(\(reason=([^,]+), frames=0,)");
  std::map<std::string, int> reasons;
  for (std::size_t i = 0; i < tags.size(); ++i) {
    auto mine = out.linesContaining(tags[i]);
    ASSERT_EQ(mine.size(), 1u) << tags[i];
    std::smatch m;
    std::string reason = std::regex_search(mine[0], m, kReason) ? m[1].str() : mine[0];
    ++reasons[reason];
    bool reset = i % 2 == 1;
    EXPECT_TRUE(reason == "peer closed" || reason == "frame timeout" ||
                (reset && reason == "reset"))
        << "peer " << i << (reset ? " (reset)" : " (half-closed)") << ": " << mine[0];
  }
  // Their memory comes back.
  EXPECT_TRUE(stats.next([](const StatsFigures& f) { return f.inputMemory < kChunkBytes; }, 5s))
      << "input_memory stays at " << stats.lastInputMemory();
  // The worker is not wedged: a newcomer is served at once.
  TestSocket newcomer = TestSocket::connect("127.0.0.1", server.port());
  newcomer.sendFrame("after the departures");
  auto echo = newcomer.recvFrame(ByteOrder::kLittle, 10s);
  ASSERT_TRUE(echo);
  EXPECT_EQ(*echo, "after the departures");
  std::cout << "[ measured ] " << kCraftedPeers
            << " peers paused for memory (input_memory=" << (held ? held->inputMemory : 0)
            << ") left mid-frame: all closed within " << closedS
            << " s (reasons: " << reasons["peer closed"] << " peer closed, " << reasons["reset"]
            << " reset, " << reasons["frame timeout"] << " frame timeout; --frame-timeout "
            << kFrameTimeoutS << ")\n";
}

}  // namespace
}  // namespace uvframe::test
