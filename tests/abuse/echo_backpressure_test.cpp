// --echo with a peer that sends and never reads: its echo queue stops at the
// high-water mark, the server stops reading it (so TCP pushes back on it),
// the server's memory stays flat, and the other peers keep getting their
// echoes. Once the peer reads, everything it sent comes back, in order.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <iostream>

#include "abuse_support.h"
#include "server_process.h"
#include "test_socket.h"

namespace uvframe::test {
namespace {

constexpr std::size_t kHogPayloadBytes = 64 * 1024;
constexpr std::size_t kMaxHogBytes = std::size_t{96} << 20;  // bound on the flood

std::string hogPayload(int seq) {
  char head[32];
  std::snprintf(head, sizeof head, "hog seq=%06d ", seq);
  std::string p(kHogPayloadBytes, 'h');
  p.replace(0, std::char_traits<char>::length(head), head);
  return p;
}

void setBlocking(int fd, bool blocking) {
  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, blocking ? flags & ~O_NONBLOCK : flags | O_NONBLOCK);
}

void roundTrips(std::vector<TestSocket>& peers, const std::string& tag, int count) {
  for (int k = 0; k < count; ++k) {
    for (std::size_t i = 0; i < peers.size(); ++i) {
      std::string msg = tag + " peer " + std::to_string(i) + " #" + std::to_string(k);
      peers[i].sendFrame(msg);
      auto back = peers[i].recvFrame(ByteOrder::kLittle, 20s);
      ASSERT_TRUE(back) << "no echo for " << msg;
      ASSERT_EQ(*back, msg);
    }
  }
}

TEST(AbuseEchoBackpressure, PeerThatNeverReadsIsPausedAtHighWaterOthersKeepTheirEchoes) {
  ServerProcess server(
      {"--echo", "--workers", "1", "--echo-high-water", "1MiB", "--max-logged-bytes", "16"});
  ChildProcess& out = server.process();
  std::vector<TestSocket> others;
  for (int i = 0; i < 3; ++i)
    others.push_back(TestSocket::connect("127.0.0.1", server.port()));
  roundTrips(others, "warm-up", 5);
  auto rssBefore = residentKiB(server.process().pid());
  ASSERT_TRUE(rssBefore);

  // The hog writes 64 KiB frames without ever reading, until its socket has
  // taken nothing for a whole second: the server stopped reading it.
  TestSocket hog = TestSocket::connect("127.0.0.1", server.port());
  setBlocking(hog.fd(), false);
  std::size_t sentBytes = 0;
  int completeFrames = 0;
  std::string frame = frameBytes(hogPayload(0));
  std::size_t inFrame = 0;  // bytes of `frame` already sent
  // Sends until a second passes with no progress (true) or the bound is hit.
  auto pushUntilStalled = [&] {
    while (sentBytes < kMaxHogBytes) {
      ssize_t n = ::send(hog.fd(), frame.data() + inFrame, frame.size() - inFrame, MSG_NOSIGNAL);
      if (n > 0) {
        sentBytes += static_cast<std::size_t>(n);
        inFrame += static_cast<std::size_t>(n);
        if (inFrame == frame.size()) {
          frame = frameBytes(hogPayload(++completeFrames));
          inFrame = 0;
        }
        continue;
      }
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return false;
      pollfd p{hog.fd(), POLLOUT, 0};
      if (::poll(&p, 1, 1000) == 0) return true;
    }
    return false;
  };
  ASSERT_TRUE(pushUntilStalled()) << "the server kept reading " << sentBytes
                                  << " bytes from a peer that never reads its echoes";
  std::size_t stalledAfterBytes = sentBytes;
  auto rssStalled = residentKiB(server.process().pid());

  // While the hog is parked, the others are served as before.
  roundTrips(others, "during", 10);
  // Still parked: pushing again moves (next to) nothing. A slow server might
  // have looked parked while it was only busy; then it takes at most what
  // its buffers hold before the high-water mark stops it for good.
  ASSERT_TRUE(pushUntilStalled());
  EXPECT_LT(sentBytes - stalledAfterBytes, std::size_t{4} << 20);
  auto rssLater = residentKiB(server.process().pid());
  ASSERT_TRUE(rssStalled && rssLater);
  long growthKiB = *rssLater - *rssBefore;
  // The queue is capped near 1 MiB; allow for allocator slack and the ring.
  EXPECT_LT(growthKiB, 32 * 1024) << "server RSS grew by " << growthKiB << " KiB";
  EXPECT_LT(*rssLater - *rssStalled, 8 * 1024);

  // The hog starts reading: every complete frame comes back, in order; then
  // it finishes the frame it was cut off in, which comes back too.
  setBlocking(hog.fd(), true);
  for (int seq = 0; seq < completeFrames; ++seq) {
    auto back = hog.recvFrame(ByteOrder::kLittle, 30s);
    ASSERT_TRUE(back) << "echo " << seq << " of " << completeFrames << " missing";
    ASSERT_EQ(back->substr(0, 15), hogPayload(seq).substr(0, 15));
    ASSERT_EQ(back->size(), kHogPayloadBytes);
  }
  if (inFrame > 0) {
    hog.sendAll(std::string_view(frame).substr(inFrame));
    auto back = hog.recvFrame(ByteOrder::kLittle, 30s);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->substr(0, 15), hogPayload(completeFrames).substr(0, 15));
  }
  roundTrips(others, "after", 2);
  EXPECT_TRUE(out.linesContaining("reason=").empty()) << out.output();
  ASSERT_EQ(server.stop(), 0) << out.output();
  std::cout << "[ measured ] hog parked after " << stalledAfterBytes / 1024 << " KiB sent, "
            << (sentBytes - stalledAfterBytes) / 1024 << " KiB more on a second push ("
            << completeFrames << " frames); server RSS " << *rssBefore << " -> " << *rssStalled
            << " -> " << *rssLater << " KiB; 3 other peers served 10 round trips meanwhile\n";
}

}  // namespace
}  // namespace uvframe::test
