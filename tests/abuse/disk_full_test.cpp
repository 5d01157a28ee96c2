// A real full disk under the log file: a small tmpfs filled to ENOSPC. The
// server must say so on stderr, hold every line (the log does not grow, the
// producers wait, TCP pushes back on the clients), and once the disk has room
// again (the tmpfs grows) write every frame exactly once, in order, and end
// with log_lost_bytes=0 and exit status 0 on SIGTERM. Needs root (mount);
// skipped otherwise.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/sockios.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <regex>
#include <thread>

#include "abuse_support.h"
#include "child_process.h"
#include "log_lines.h"
#include "test_socket.h"

namespace uvframe::test {
namespace {

/// A tmpfs of a given size on a fresh directory, unmounted and removed on
/// destruction. error() says why it could not be mounted (empty: mounted).
class TmpfsMount {
 public:
  explicit TmpfsMount(const std::string& size) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "uvframe-tmpfs-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      error_ = std::string("mkdtemp: ") + std::strerror(errno);
      return;
    }
    path_ = pattern;
    if (::geteuid() != 0) {
      error_ = "not root";
    } else if (::mount("tmpfs", path_.c_str(), "tmpfs", 0, ("size=" + size).c_str()) != 0) {
      error_ = std::string("mount: ") + std::strerror(errno);
    } else {
      mounted_ = true;
    }
  }
  ~TmpfsMount() {
    // Lazily if something still holds a file there (a server killed late).
    if (mounted_ && ::umount2(path_.c_str(), 0) != 0) ::umount2(path_.c_str(), MNT_DETACH);
    if (!path_.empty()) ::rmdir(path_.c_str());
  }
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;

  const std::string& error() const { return error_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  /// mount -o remount,size=<size>: the disk freed.
  bool resize(const std::string& size) {
    return ::mount("tmpfs", path_.c_str(), "tmpfs", MS_REMOUNT, ("size=" + size).c_str()) == 0;
  }

 private:
  std::string path_;
  std::string error_;
  bool mounted_ = false;
};

/// Writes a file until the file system says ENOSPC, in ever smaller pieces,
/// so not even one more page fits. Returns the errno that stopped it.
int fillUp(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return errno;
  const std::string chunk(64 * 1024, 'f');
  int err = 0;
  for (std::size_t piece : {chunk.size(), std::size_t{4096}, std::size_t{1}}) {
    err = 0;
    // Bounded: a 512 KiB disk takes a handful of chunks of any size here.
    for (int i = 0; i < 1000000 && err == 0; ++i) {
      if (::write(fd, chunk.data(), piece) < 0) err = errno;
    }
    if (err != ENOSPC) break;
  }
  ::close(fd);
  return err;
}

// Unsent bytes in a socket's send queue: what TCP holds back for the server.
int unsentBytes(int fd) {
  int unsent = 0;
  return ioctl(fd, SIOCOUTQNSD, &unsent) == 0 ? unsent : 0;
}

TEST(AbuseDiskFull, FullDiskHoldsEveryLineUntilItHasRoomThenLosesNothing) {
  TmpfsMount disk("512k");
  if (!disk.error().empty()) {
    GTEST_SKIP() << "needs root to mount a tmpfs; CI runs as root (" << disk.error() << ")";
  }
  ASSERT_EQ(fillUp(disk.file("filler")), ENOSPC);
  const std::string logPath = disk.file("server.log");
  ChildProcess server({programPath("uvframe-server"), "--host", "127.0.0.1", "--port", "0",
                       "--workers", "2", "--no-console", "--log-file", logPath, "--stats-interval",
                       "0"});
  // The listening line is the first line the disk refuses.
  ASSERT_TRUE(server.waitForText("cannot write log file '" + logPath + "'", 20s))
      << server.output();
  std::uint16_t port = listeningPortOf(server.pid(), 20s);
  ASSERT_NE(port, 0) << server.output();

  // Four clients, 20,000 distinct frames of 200 bytes: about 5 MB of log,
  // more than the server's log buffers hold, so it has to stop reading.
  constexpr int kClients = 4;
  const int kFramesPerClient = scaledCount(5000, 500);
  auto payload = [](int c, int n) {
    std::string p = "disk-full c=" + std::to_string(c) + " n=" + std::to_string(n) + " ";
    p.resize(200, 'x');
    return p;
  };
  std::vector<TestSocket> clients;
  for (int c = 0; c < kClients; ++c)
    clients.push_back(TestSocket::connect("127.0.0.1", port));
  std::vector<std::thread> senders;
  std::atomic<int> sendersDone{0};
  for (int c = 0; c < kClients; ++c) {
    senders.emplace_back([&, c] {
      // Blocks in send() while the server does not read: that is the point.
      try {
        for (int n = 0; n < kFramesPerClient; n += 100) {
          std::string batch;
          for (int k = n; k < std::min(n + 100, kFramesPerClient); ++k)
            batch += frameBytes(payload(c, k));
          clients[static_cast<std::size_t>(c)].sendAll(batch);
        }
      } catch (const std::exception&) {
        // The server is gone (killed below after a failure): the test says so.
      }
      ++sendersDone;
    });
  }
  // While the disk is full, nothing reaches the log, and what the clients
  // sent waits (in the server's log buffers, then in TCP). Bounded windows to
  // look at, not synchronisation: the senders finish or block within the
  // first; the log must stay empty for three seconds after that, longer than
  // any "retry a little, then drop" policy would hold on.
  auto window = Clock::now() + 3s;
  while (sendersDone < kClients && Clock::now() < window)
    std::this_thread::sleep_for(20ms);
  std::uintmax_t logBytes = 0;
  for (auto watch = Clock::now() + 3s; logBytes == 0 && Clock::now() < watch;) {
    std::this_thread::sleep_for(20ms);
    logBytes = std::filesystem::file_size(logPath);
  }
  EXPECT_EQ(logBytes, 0u) << server.output();
  std::uint64_t heldBack = 0;
  for (const TestSocket& s : clients)
    heldBack += static_cast<std::uint64_t>(unsentBytes(s.fd()));

  ASSERT_TRUE(disk.resize("64m"));
  auto grown = Clock::now();
  const std::size_t total = static_cast<std::size_t>(kClients * kFramesPerClient);
  LogFile log(logPath);
  bool all = log.waitUntil(
      [&](const auto& lines) { return countContaining(lines, "] disk-full c=") >= total; }, 30s);
  double catchUpS = std::chrono::duration<double>(Clock::now() - grown).count();
  // A server that never catches up is killed, so the senders stop waiting.
  if (!all) server.sendSignal(SIGKILL);
  for (std::thread& t : senders)
    t.join();
  ASSERT_TRUE(all) << countContaining(log.lines(), "] disk-full c=") << " of " << total
                   << " frames logged; output:\n"
                   << server.output();

  server.sendSignal(SIGTERM);
  auto rc = server.waitExit(30s);
  ASSERT_TRUE(rc) << "no exit after SIGTERM; output:\n" << server.output();
  EXPECT_EQ(*rc, 0) << server.output();
  EXPECT_TRUE(server.waitForText("is writable again", 1s)) << server.output();

  // Every frame exactly once, in order per client; the final stats line
  // says nothing was lost.
  log.refresh();
  auto byPeer = messagesByPeer(log.lines());
  for (int c = 0; c < kClients; ++c) {
    const auto& msgs = byPeer[clients[static_cast<std::size_t>(c)].localHostPort()];
    ASSERT_EQ(msgs.size(), static_cast<std::size_t>(kFramesPerClient)) << "client " << c;
    for (int n = 0; n < kFramesPerClient; ++n)
      ASSERT_EQ(msgs[static_cast<std::size_t>(n)], payload(c, n)) << "client " << c;
  }
  std::size_t finals = 0;
  for (const std::string& line : log.lines()) {
    if (line.find("[tcp server] stats: ") == std::string::npos ||
        line.find("final=true") == std::string::npos)
      continue;
    ++finals;
    EXPECT_TRUE(std::regex_search(line, std::regex(R"(log_lost_bytes=0\b)"))) << line;
  }
  EXPECT_EQ(finals, 1u) << server.output();
  std::cout << "[ measured ] full tmpfs: " << total << " frames held (" << heldBack
            << " bytes unsent in the clients' sockets while the disk was full), all logged "
            << catchUpS << " s after the disk grew; exit " << *rc << "\n";
}

}  // namespace
}  // namespace uvframe::test
