// A hundred misbehaving peers at once: random garbage (fixed seed), lengths
// near 2^32, and half-closed sockets (a complete frame, then shutdown of the
// sending side). Each gets its log lines and a close with the reason its bytes
// call for; well-behaved peers alongside them are not disturbed.
#include <gtest/gtest.h>

#include <iostream>
#include <random>
#include <regex>

#include "abuse_support.h"
#include "frame_codec.h"
#include "server_process.h"
#include "test_socket.h"

namespace uvframe::test {
namespace {

enum class Kind { kGarbage, kHugeLength, kHalfClosed };

struct Abuser {
  Kind kind;
  std::string bytes;
  std::uint64_t frames = 0;    ///< complete frames the server must log
  std::string reason;          ///< expected close reason
  std::uint32_t tooLarge = 0;  ///< announced length of the rejected frame
  std::optional<TestSocket> socket;
};

// What the server must make of bytes: the frames it logs and how it ends.
// Garbage that ends exactly on a frame boundary would leave an idle (not
// stalled) connection, so it gets one more byte.
void expectFor(Abuser& a, std::mt19937& rng) {
  const FrameDecoder decoder(ByteOrder::kLittle, kDefaultMaxFrameBytes);
  while (true) {
    auto data = std::as_bytes(std::span(a.bytes.data(), a.bytes.size()));
    std::size_t offset = 0;
    a.frames = 0;
    DecodeResult r;
    while ((r = decoder.decode(data.subspan(offset))).status == DecodeResult::Status::kFrame) {
      offset += r.consumedBytes;
      ++a.frames;
    }
    if (r.status == DecodeResult::Status::kTooLarge) {
      a.reason = "frame too large";
      a.tooLarge = r.payloadBytes;
      return;
    }
    if (offset < data.size()) {
      a.reason = a.kind == Kind::kHalfClosed ? "peer closed" : "frame timeout";
      return;
    }
    if (a.kind == Kind::kHalfClosed) {
      a.reason = "peer closed";
      return;
    }
    a.bytes.push_back(static_cast<char>(rng()));
  }
}

std::vector<Abuser> makeAbusers(int count) {
  std::mt19937 rng(20261125);
  const std::uint32_t kHuge[] = {0xFFFFFFFFu,
                                 0xFFFFFFFEu,
                                 0xFFFFFFFCu,
                                 0xFFFFFFFBu,
                                 0x80000000u,
                                 0x7FFFFFFFu,
                                 kDefaultMaxFrameBytes + 1};
  std::vector<Abuser> out;
  for (int i = 0; i < count; ++i) {
    Abuser a{static_cast<Kind>(i % 3), {}, 0, {}, 0, std::nullopt};
    switch (a.kind) {
      case Kind::kGarbage: {
        std::uniform_int_distribution<int> len(1, 2048);
        a.bytes.resize(static_cast<std::size_t>(len(rng)));
        for (char& c : a.bytes)
          c = static_cast<char>(rng());
        // Every other one starts with a plausible length, so its random
        // payload is logged (or its frame stalls) instead of being rejected.
        if (i % 2 == 0) {
          std::uniform_int_distribution<std::uint32_t> small(0, 3000);
          a.bytes.replace(0, std::min<std::size_t>(4, a.bytes.size()),
                          littleEndianHeader(small(rng)));
        }
        break;
      }
      case Kind::kHugeLength:
        // Some send a good frame first; then the absurd length and a little
        // of its "payload".
        if (i % 2 == 0) a.bytes = frameBytes("fine so far " + std::to_string(i));
        a.bytes += littleEndianHeader(kHuge[static_cast<std::size_t>(i / 3) % std::size(kHuge)]);
        a.bytes += std::string(100, 'x');
        break;
      case Kind::kHalfClosed:
        a.bytes = frameBytes("half-closed " + std::to_string(i));
        break;
    }
    expectFor(a, rng);
    out.push_back(std::move(a));
  }
  return out;
}

TEST(AbuseGarbage, HundredMisbehavingPeersEachGetALogLineAndACloseOthersUnaffected) {
  const int kAbusers = 100;
  const int kGood = 5;
  raiseOpenFileLimit(kAbusers + kGood + 256);
  ServerProcess server({"--frame-timeout", "1", "--workers", "2"});
  ChildProcess& out = server.process();

  std::vector<TestSocket> good;
  for (int g = 0; g < kGood; ++g) {
    good.push_back(TestSocket::connect("127.0.0.1", server.port()));
    good.back().sendFrame("good " + std::to_string(g) + " seq 0");
  }
  std::vector<Abuser> abusers = makeAbusers(kAbusers);
  for (std::size_t i = 0; i < abusers.size(); ++i) {
    Abuser& a = abusers[i];
    a.socket = TestSocket::connect("127.0.0.1", server.port());
    try {
      a.socket->sendAll(a.bytes);
    } catch (const std::exception&) {
      // The server may close a peer before it has sent everything.
    }
    if (a.kind == Kind::kHalfClosed) a.socket->shutdownWrite();
    // The good peers keep talking in between.
    if (i % 20 == 19) {
      for (int g = 0; g < kGood; ++g) {
        good[static_cast<std::size_t>(g)].sendFrame("good " + std::to_string(g) + " seq " +
                                                    std::to_string(i / 20 + 1));
      }
    }
  }

  std::vector<int> fds;
  for (const auto& a : abusers)
    fds.push_back(a.socket->fd());
  auto closedAt = waitAllClosedByPeer(fds, 30s);
  int tooLarge = 0, timedOut = 0, halfClosed = 0;
  for (std::size_t i = 0; i < abusers.size(); ++i) {
    const Abuser& a = abusers[i];
    EXPECT_TRUE(closedAt[i]) << "abuser " << i << " (" << a.reason << ") never closed";
    std::string port = std::to_string(a.socket->localPort());
    std::string disconnected = "client disconnected: ip=127.0.0.1, port=" + port +
                               " (reason=" + a.reason + ", frames=" + std::to_string(a.frames) +
                               ",";
    ASSERT_TRUE(out.waitForText(disconnected, 10s)) << "abuser " << i << ": " << disconnected;
    EXPECT_EQ(out.linesContaining("port=" + port + " (").size(), 1u) << port;
    EXPECT_EQ(out.linesContaining("[tcp/127.0.0.1:" + port + "] ").size(), a.frames) << port;
    if (a.reason == "frame too large") {
      ++tooLarge;
      EXPECT_EQ(out.linesContaining("frame too large: ip=127.0.0.1, port=" + port +
                                    ", length=" + std::to_string(a.tooLarge) + " ")
                    .size(),
                1u)
          << port;
    }
    timedOut += a.reason == "frame timeout";
    halfClosed += a.kind == Kind::kHalfClosed;
    if (a.kind == Kind::kHalfClosed) {
      EXPECT_EQ(out.linesContaining("[tcp/127.0.0.1:" + port + "] half-closed " + std::to_string(i))
                    .size(),
                1u);
    }
  }

  // The good peers: every frame logged in order, none of them closed.
  for (int g = 0; g < kGood; ++g) {
    good[static_cast<std::size_t>(g)].sendFrame("good " + std::to_string(g) + " last");
  }
  for (int g = 0; g < kGood; ++g) {
    const TestSocket& s = good[static_cast<std::size_t>(g)];
    ASSERT_TRUE(out.waitForText("] good " + std::to_string(g) + " last"));
    auto msgs = server.messagesFrom(s.localHostPort());
    ASSERT_EQ(msgs.size(), static_cast<std::size_t>(kAbusers / 20 + 2));
    for (std::size_t k = 0; k + 1 < msgs.size(); ++k) {
      EXPECT_EQ(msgs[k], "good " + std::to_string(g) + " seq " + std::to_string(k));
    }
    EXPECT_TRUE(out.linesContaining("port=" + std::to_string(s.localPort()) + " (").empty());
  }

  // Whatever the garbage was, every line the server wrote is a well-formed
  // log line.
  const std::regex prefix(R"(^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] \[\w+\] \[tcp)");
  for (const auto& l : out.lines())
    EXPECT_TRUE(std::regex_search(l, prefix)) << l;

  ASSERT_EQ(server.stop(), 0) << out.output();
  std::cout << "[ measured ] " << kAbusers << " abusers: " << tooLarge << " frame too large, "
            << timedOut << " frame timeout, " << halfClosed
            << " half-closed (frame logged, then peer closed); all closed, " << kGood
            << " good peers untouched\n";
}

}  // namespace
}  // namespace uvframe::test
