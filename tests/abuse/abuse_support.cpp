// Abuse-test helpers: see abuse_support.h. Linux only (/proc).
#include "abuse_support.h"

#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace uvframe::test {

int scaledCount(int full, int minimum) {
  double scale = kThreadSanitizerBuild ? 0.3 : 1.0;
  if (const char* env = std::getenv("UVFRAME_ABUSE_SCALE"); env != nullptr && *env != '\0') {
    scale = std::strtod(env, nullptr);
  }
  return std::max(minimum, static_cast<int>(full * scale));
}

unsigned long raiseOpenFileLimit(unsigned long want) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return 0;
  if (lim.rlim_cur < want) {
    lim.rlim_cur = std::min<rlim_t>(want, lim.rlim_max);
    setrlimit(RLIMIT_NOFILE, &lim);
    getrlimit(RLIMIT_NOFILE, &lim);
  }
  return static_cast<unsigned long>(lim.rlim_cur);
}

const std::vector<std::string>& LogFile::refresh() {
  std::ifstream in(path_, std::ios::binary);
  if (!in) return lines_;
  in.seekg(static_cast<std::streamoff>(offset_));
  std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  offset_ += chunk.size();
  partial_ += chunk;
  std::size_t start = 0;
  for (std::size_t nl; (nl = partial_.find('\n', start)) != std::string::npos; start = nl + 1) {
    lines_.emplace_back(partial_, start, nl - start);
  }
  partial_.erase(0, start);
  return lines_;
}

bool LogFile::waitUntil(const std::function<bool(const std::vector<std::string>&)>& pred,
                        std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (!pred(refresh())) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

std::string LogFile::bytes() const {
  std::ifstream in(path_, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::size_t countContaining(const std::vector<std::string>& lines, const std::string& text) {
  return static_cast<std::size_t>(std::count_if(lines.begin(), lines.end(), [&](const auto& l) {
    return l.find(text) != std::string::npos;
  }));
}

std::optional<long> residentKiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return std::nullopt;
}

std::optional<int> openDescriptors(pid_t pid) {
  std::error_code ec;
  std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec);
  if (ec) return std::nullopt;
  int n = 0;
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (ec) return std::nullopt;
    ++n;
  }
  return n;
}

std::optional<double> cpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The command name (field 2) may hold spaces; the fields after it do not.
  auto close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(stat.substr(close + 2));
  std::vector<std::string> fields;
  for (std::string f; rest >> f;)
    fields.push_back(f);
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
  if (fields.size() < 13) return std::nullopt;
  double ticks = std::stod(fields[11]) + std::stod(fields[12]);
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::vector<std::optional<Clock::time_point>> waitAllClosedByPeer(const std::vector<int>& fds,
                                                                  std::chrono::milliseconds timeout,
                                                                  std::size_t enough) {
  std::vector<std::optional<Clock::time_point>> closedAt(fds.size());
  std::size_t closed = 0;
  auto deadline = Clock::now() + timeout;
  char buf[4096];
  while (true) {
    std::vector<pollfd> open;
    std::vector<std::size_t> index;
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (!closedAt[i]) {
        open.push_back({fds[i], POLLIN, 0});
        index.push_back(i);
      }
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (open.empty() || closed >= enough || left.count() <= 0) return closedAt;
    int rc = ::poll(open.data(), open.size(), static_cast<int>(std::min<long>(left.count(), 100)));
    if (rc < 0 && errno != EINTR) return closedAt;
    auto now = Clock::now();
    for (std::size_t k = 0; rc > 0 && k < open.size(); ++k) {
      if (open[k].revents == 0) continue;
      ssize_t r = ::recv(open[k].fd, buf, sizeof buf, MSG_DONTWAIT);
      if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        closedAt[index[k]] = now;
        ++closed;
      }
    }
  }
}

namespace {

std::uint16_t findListeningPort(pid_t pid) {
  // Socket inodes the process holds.
  std::vector<std::string> inodes;
  std::error_code ec;
  std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec);
  for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    std::string target = std::filesystem::read_symlink(it->path(), ec).string();
    if (!ec && target.rfind("socket:[", 0) == 0)
      inodes.push_back(target.substr(8, target.size() - 9));
  }
  std::ifstream tcp("/proc/net/tcp");
  std::string line;
  std::getline(tcp, line);  // header
  while (std::getline(tcp, line)) {
    std::istringstream f(line);
    std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
    f >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >>
        inode;
    // State 0A is LISTEN; 0100007F is 127.0.0.1 in the kernel's byte order.
    if (state != "0A" || local.rfind("0100007F:", 0) != 0) continue;
    if (std::find(inodes.begin(), inodes.end(), inode) != inodes.end()) {
      return static_cast<std::uint16_t>(std::stoul(local.substr(9), nullptr, 16));
    }
  }
  return 0;
}

}  // namespace

std::uint16_t listeningPortOf(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    if (std::uint16_t port = findListeningPort(pid); port != 0) return port;
    if (Clock::now() >= deadline) return 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string littleEndianHeader(std::uint32_t payloadBytes) {
  std::string h(4, '\0');
  for (int i = 0; i < 4; ++i)
    h[static_cast<std::size_t>(i)] = static_cast<char>(payloadBytes >> (8 * i));
  return h;
}

}  // namespace uvframe::test
