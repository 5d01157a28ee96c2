// The limits on echo bytes a peer leaves in the server (--echo). SPEC: one
// memory policy covers every byte held for a peer, echo queues included, and
// "a slow but reading echo peer is not closed for write timeout while it
// makes progress"; --write-timeout closes a peer that takes none of its
// queued echo bytes for that long, whatever --frame-timeout says and however
// far below --echo-high-water its queue is.
//
// On loopback the MSS is 64 KiB and Linux sizes a socket's send buffer by
// MSS x congestion window, so the server's kernel alone would swallow
// megabytes of echo and nothing would wait in the server. The peers here set
// a 1460-byte MSS (an Ethernet path) and a small receive buffer before
// connecting, as a remote client would have, so the kernel keeps ~100 KiB and
// the rest of the echo waits in the server, where its limits apply. How much
// does is measured from /proc/net/tcp: bytes sent, minus bytes read, minus
// what the four kernel queues on the way hold.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <regex>
#include <stdexcept>
#include <thread>

#include "abuse_support.h"
#include "server_process.h"
#include "test_socket.h"

namespace uvframe::test {
namespace {

constexpr std::size_t kKiB = 1024;
constexpr int kRealPathMss = 1460;
constexpr std::size_t kSmallFrameBytes = 16 * kKiB;
constexpr int kSilentFrames = 25;  // 400 KiB: far below the 1 MiB high-water mark

double seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

/// A non-blocking loopback client tuned before connect like a remote peer
/// (see the file comment). Closes on destruction.
class RemotePeer {
 public:
  RemotePeer(std::uint16_t port, int receiveBufferBytes) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    int mss = kRealPathMss;
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receiveBufferBytes, sizeof receiveBufferBytes);
    setsockopt(fd_, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof mss);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      throw std::runtime_error(std::string("connect: ") + std::strerror(errno));
    }
    fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) | O_NONBLOCK);
    sockaddr_in local{};
    socklen_t len = sizeof local;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &len);
    localPort_ = ntohs(local.sin_port);
  }
  ~RemotePeer() { ::close(fd_); }
  RemotePeer(const RemotePeer&) = delete;
  RemotePeer& operator=(const RemotePeer&) = delete;

  int fd() const { return fd_; }
  std::uint16_t localPort() const { return localPort_; }
  std::string disconnectedTag() const {
    return "client disconnected: ip=127.0.0.1, port=" + std::to_string(localPort_) + " (";
  }

  /// Sends as much of bytes as the socket takes before the deadline.
  std::size_t sendWithin(std::string_view bytes, Clock::time_point deadline) {
    std::size_t sent = 0;
    while (sent < bytes.size() && Clock::now() < deadline) {
      ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<std::size_t>(n);
      } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        break;
      } else {
        pollfd p{fd_, POLLOUT, 0};
        ::poll(&p, 1, 50);
      }
    }
    return sent;
  }

 private:
  int fd_;
  std::uint16_t localPort_ = 0;
};

struct KernelQueues {
  std::size_t tx = 0;  ///< sent by the application, not yet acknowledged
  std::size_t rx = 0;  ///< received, not yet read by the application
};

// The queues of the IPv4 socket 127.0.0.1:localPort -> 127.0.0.1:remotePort,
// from /proc/net/tcp; nullopt once it is gone.
std::optional<KernelQueues> kernelQueues(std::uint16_t localPort, std::uint16_t remotePort) {
  FILE* f = std::fopen("/proc/net/tcp", "r");
  if (f == nullptr) return std::nullopt;
  std::optional<KernelQueues> found;
  char line[512];
  while (!found && std::fgets(line, sizeof line, f) != nullptr) {
    unsigned localAddr = 0, local = 0, remoteAddr = 0, remote = 0, state = 0;
    unsigned long tx = 0, rx = 0;
    if (std::sscanf(line, " %*u: %8X:%4X %8X:%4X %2X %8lX:%8lX", &localAddr, &local, &remoteAddr,
                    &remote, &state, &tx, &rx) == 7 &&
        local == localPort && remote == remotePort) {
      found = KernelQueues{tx, rx};
    }
  }
  std::fclose(f);
  return found;
}

// Echo bytes the server itself holds for the peer: what the peer sent, less
// what it read, less what the kernel queues on the way hold. Polled until the
// server has read everything sent and the figure holds still; nullopt if that
// does not happen before the deadline or the server's socket is gone.
std::optional<std::size_t> heldByServer(const RemotePeer& peer, std::uint16_t serverPort,
                                        std::size_t sentBytes, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  std::optional<std::size_t> last;
  int steady = 0;
  while (Clock::now() < deadline) {
    auto mine = kernelQueues(peer.localPort(), serverPort);
    auto theirs = kernelQueues(serverPort, peer.localPort());
    if (!mine || !theirs) return std::nullopt;
    std::size_t inKernel = mine->tx + mine->rx + theirs->tx + theirs->rx;
    std::size_t held = sentBytes - std::min(inKernel, sentBytes);
    steady = (last == held && theirs->rx == 0 && mine->tx == 0) ? steady + 1 : 0;
    last = held;
    if (steady >= 3) return held;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return std::nullopt;
}

std::string frameOf(int seq, std::size_t payloadBytes) {
  std::string p = "seq=" + std::to_string(seq) + " ";
  for (std::size_t i = p.size(); i < payloadBytes; ++i)
    p.push_back(static_cast<char>('A' + (i + static_cast<std::size_t>(seq) * 3) % 26));
  return frameBytes(p);
}

std::string frames(int count, std::size_t payloadBytes) {
  std::string out;
  for (int i = 0; i < count; ++i)
    out += frameOf(i, payloadBytes);
  return out;
}

// A peer sends 400 KiB of echo frames and never reads: it must be closed for
// write timeout (about 2 s after its echoes stop moving), with every frame
// it sent read and counted.
void expectNonReaderClosedForWriteTimeout(std::vector<std::string> args) {
  args.insert(args.end(),
              {"--echo", "--workers", "1", "--write-timeout", "2", "--max-logged-bytes", "32"});
  ServerProcess server(args);
  ChildProcess& out = server.process();
  RemotePeer peer(server.port(), 4096);
  const std::string bytes = frames(kSilentFrames, kSmallFrameBytes);
  ASSERT_EQ(peer.sendWithin(bytes, Clock::now() + 10s), bytes.size());
  auto sentAt = Clock::now();
  auto held = heldByServer(peer, server.port(), bytes.size(), 2s);
  if (held) {
    ASSERT_GE(*held, 128 * kKiB) << "the kernel took the echoes: nothing waits in the server";
  }

  auto line = out.waitForText(peer.disconnectedTag(), 15s);
  double closedAfterS = seconds(Clock::now() - sentAt);
  ASSERT_TRUE(line) << "a peer that never reads its " << held.value_or(0)
                    << " queued echo bytes was not closed in 15 s";
  EXPECT_NE(line->find("(reason=write timeout, frames=" + std::to_string(kSilentFrames) +
                       ", bytes=" + std::to_string(bytes.size()) + ","),
            std::string::npos)
      << *line;
  EXPECT_GE(closedAfterS, 1.0) << "closed before its write timeout";
  EXPECT_FALSE(out.linesContaining("write timeout: ").empty()) << "no warning line";
  // From the peer's side the connection is over too.
  std::vector<int> fds{peer.fd()};
  EXPECT_TRUE(waitAllClosedByPeer(fds, 5s)[0]);
  std::cout << "[ measured ] " << held.value_or(0) / kKiB
            << " KiB of echo waiting in the server; closed for write timeout after " << closedAfterS
            << " s (--write-timeout 2)\n";
}

TEST(AbuseEchoLimits, NonReadingPeerBelowHighWaterIsClosed) {
  expectNonReaderClosedForWriteTimeout({"--frame-timeout", "30"});
}

TEST(AbuseEchoLimits, WriteTimeoutHoldsWithFrameTimeoutOff) {
  expectNonReaderClosedForWriteTimeout({"--frame-timeout", "0"});
}

TEST(AbuseEchoLimits, SlowButReadingPeerIsNotClosed) {
  constexpr int kFrames = 4;
  constexpr std::size_t kBigFrameBytes = 1024 * kKiB;
  constexpr std::size_t kReadPerTickBytes = 64 * kKiB;
  constexpr auto kTick = std::chrono::milliseconds(100);
  ServerProcess server({"--echo", "--workers", "1", "--write-timeout", "1", "--max-frame", "2MiB",
                        "--max-logged-bytes", "32"});
  ChildProcess& out = server.process();
  RemotePeer peer(server.port(), 64 * kKiB);
  const std::string bytes = frames(kFrames, kBigFrameBytes);

  // The peer sends whenever its socket takes more, and reads at most 64 KiB
  // every 100 ms: ~640 KiB/s, so 4 MiB of echo takes over 6 s, and each
  // 1 MiB frame's echo well over the 1 s write timeout. Even when the
  // server's kernel takes 2 MiB of it (its send buffer grows for a reading
  // peer), a queue past the 1 MiB high-water mark is left in the server.
  // (The pacing is the client's behaviour under test, not synchronisation.)
  std::size_t sent = 0;
  std::string received;
  std::vector<char> buf(kReadPerTickBytes);
  bool broken = false;
  auto start = Clock::now();
  auto deadline = start + 25s;
  auto nextRead = start;
  while (received.size() < bytes.size() && !broken && Clock::now() < deadline) {
    if (Clock::now() >= nextRead) {
      ssize_t n = ::recv(peer.fd(), buf.data(), buf.size(), 0);
      if (n > 0) received.append(buf.data(), static_cast<std::size_t>(n));
      broken = n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
      nextRead += kTick;
      continue;
    }
    if (sent < bytes.size()) {
      sent += peer.sendWithin(std::string_view(bytes).substr(sent), nextRead);
    } else {
      std::this_thread::sleep_until(nextRead);
    }
  }
  double tookS = seconds(Clock::now() - start);
  auto writeTimeouts = out.linesContaining("reason=write timeout");
  EXPECT_TRUE(writeTimeouts.empty()) << "closed while reading: " << writeTimeouts.front();
  ASSERT_EQ(received.size(), bytes.size())
      << "received " << received.size() / kKiB << " of " << bytes.size() / kKiB << " KiB ("
      << sent / kKiB << " KiB sent) in " << tookS << " s"
      << (broken ? "; the server closed the connection" : "");
  EXPECT_TRUE(received == bytes) << "echo differs from what was sent";

  ::shutdown(peer.fd(), SHUT_WR);
  auto line = out.waitForText(peer.disconnectedTag(), 10s);
  ASSERT_TRUE(line);
  EXPECT_NE(line->find("(reason=peer closed, frames=" + std::to_string(kFrames) + ","),
            std::string::npos)
      << *line;
  std::cout << "[ measured ] " << bytes.size() / kKiB << " KiB echoed to a peer reading "
            << kReadPerTickBytes / kKiB << " KiB per " << kTick.count() << " ms in " << tookS
            << " s, not closed (--write-timeout 1)\n";
}

std::uint64_t inputMemoryOf(const std::string& statsLine) {
  static const std::regex kInputMemory(R"(input_memory=(\d+))");
  std::smatch m;
  return std::regex_search(statsLine, m, kInputMemory) ? std::stoull(m[1].str()) : 0;
}

// Waits for a stats line that counts at least bytes of input memory; returns
// the figure of the last stats line seen (0 if none).
std::uint64_t waitForInputMemory(ChildProcess& out, std::uint64_t bytes,
                                 std::chrono::milliseconds timeout) {
  const std::string kStats = "[tcp server] stats: ";
  std::uint64_t last = 0;
  out.waitUntil(
      [&](const std::vector<std::string>& lines) {
        for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
          if (it->find(kStats) == std::string::npos) continue;
          last = inputMemoryOf(*it);
          return last >= bytes;
        }
        return false;
      },
      timeout);
  return last;
}

TEST(AbuseEchoLimits, QueuedEchoBytesCountAsInputMemory) {
  ServerProcess server(
      {"--echo", "--workers", "1", "--stats-interval", "1", "--max-logged-bytes", "32"});
  ChildProcess& out = server.process();
  RemotePeer peer(server.port(), 4096);
  const std::string bytes = frames(kSilentFrames, kSmallFrameBytes);
  ASSERT_EQ(peer.sendWithin(bytes, Clock::now() + 10s), bytes.size());
  auto held = heldByServer(peer, server.port(), bytes.size(), 10s);
  ASSERT_TRUE(held) << "the server closed the connection or never settled";
  ASSERT_GE(*held, 128 * kKiB) << "the kernel took the echoes: nothing waits in the server";

  // The stats figure is sampled now and then: poll for it (stats lines come
  // every second, the queue holds still while the peer reads nothing).
  std::uint64_t inputMemory = waitForInputMemory(out, *held, 5s);
  EXPECT_GE(inputMemory, *held) << "input_memory leaves out " << *held << " queued echo bytes";
  std::cout << "[ measured ] " << *held << " echo bytes held for a non-reading peer; stats say "
            << "input_memory=" << inputMemory << "\n";
}

}  // namespace
}  // namespace uvframe::test
