// Load generator statistics: error kind names and the adding up of counters.
#include "loadgen_stats.h"

#include <uv.h>

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace uvframe {
namespace {

TEST(LoadgenStats, EveryErrorKindHasItsOwnName) {
  std::set<std::string> names;
  for (std::size_t i = 0; i < kErrorKindCount; ++i) {
    std::string name(errorKindName(static_cast<ErrorKind>(i)));
    EXPECT_FALSE(name.empty()) << i;
    EXPECT_NE(name, "unknown") << i;
    names.insert(name);
  }
  EXPECT_EQ(names.size(), kErrorKindCount);
}

TEST(LoadgenStats, ConnectFailuresAreCountedByKind) {
  EXPECT_EQ(connectErrorKind(UV_ECONNREFUSED), ErrorKind::kConnectRefused);
  EXPECT_EQ(connectErrorKind(UV_ETIMEDOUT), ErrorKind::kConnectTimeout);
  EXPECT_EQ(connectErrorKind(UV_ECONNRESET), ErrorKind::kConnectReset);
  EXPECT_EQ(connectErrorKind(UV_EADDRNOTAVAIL), ErrorKind::kConnectAddrNotAvail);
  EXPECT_EQ(connectErrorKind(UV_EMFILE), ErrorKind::kConnectNoDescriptors);
  EXPECT_EQ(connectErrorKind(UV_ENETUNREACH), ErrorKind::kConnectOther);
}

TEST(LoadgenStats, TotalsAddEveryLoop) {
  LoadCounters a, b;
  LoadCounters::add(a.framesSent, 10);
  LoadCounters::add(b.framesSent, 5);
  a.addError(ErrorKind::kReset);
  b.addError(ErrorKind::kEchoMissing, 3);
  a.lastActivityNs = 7;
  b.lastActivityNs = 9;
  LoadTotals t;
  t.add(a);
  t.add(b);
  EXPECT_EQ(t.framesSent, 15u);
  EXPECT_EQ(t.totalErrors(), 4u);
  EXPECT_EQ(t.lastActivityNs, 9u);
}

}  // namespace
}  // namespace uvframe
