// parseHttpRequestHead and splitHostPort (common/http_request.h): the
// request heads a scraper sends, every split of them, and the malformed,
// oversized and hostile ones the /metrics responder must refuse.
#include "http_request.h"

#include <gtest/gtest.h>

#include <string>

namespace uvframe {
namespace {

constexpr std::string_view kScrape =
    "GET /metrics HTTP/1.1\r\n"
    "Host: 127.0.0.1:9100\r\n"
    "User-Agent: Prometheus/2.42.0\r\n"
    "Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5\r\n"
    "X-Prometheus-Scrape-Timeout-Seconds: 10\r\n"
    "\r\n";

TEST(HttpRequest, PrometheusScrapeIsComplete) {
  HttpRequestHead h = parseHttpRequestHead(kScrape);
  ASSERT_EQ(h.status, HttpHeadStatus::kComplete) << h.error;
  EXPECT_EQ(h.method, "GET");
  EXPECT_EQ(h.target, "/metrics");
  EXPECT_EQ(h.path, "/metrics");
  EXPECT_EQ(h.version, "HTTP/1.1");
  EXPECT_EQ(h.headBytes, kScrape.size());
}

TEST(HttpRequest, EveryPrefixIsIncompleteAndNeverMalformed) {
  for (std::size_t n = 0; n < kScrape.size(); ++n) {
    HttpRequestHead h = parseHttpRequestHead(kScrape.substr(0, n));
    EXPECT_EQ(h.status, HttpHeadStatus::kIncomplete) << n << ": " << h.error;
  }
}

TEST(HttpRequest, BytesAfterTheHeadAreNotPartOfIt) {
  std::string bytes = std::string(kScrape) + "GET /healthz HTTP/1.1\r\n";
  HttpRequestHead h = parseHttpRequestHead(bytes);
  ASSERT_EQ(h.status, HttpHeadStatus::kComplete);
  EXPECT_EQ(h.headBytes, kScrape.size());
}

TEST(HttpRequest, QueryAndFragmentAreNotPartOfThePath) {
  auto h = parseHttpRequestHead("GET /metrics?name[]=x HTTP/1.0\r\n\r\n");
  ASSERT_EQ(h.status, HttpHeadStatus::kComplete) << h.error;
  EXPECT_EQ(h.target, "/metrics?name[]=x");
  EXPECT_EQ(h.path, "/metrics");
  EXPECT_EQ(h.version, "HTTP/1.0");
  EXPECT_EQ(parseHttpRequestHead("HEAD /healthz#x HTTP/1.1\r\n\r\n").path, "/healthz");
}

TEST(HttpRequest, BareLfLinesAndLeadingEmptyLinesAreAccepted) {
  auto h = parseHttpRequestHead("\r\n\nGET /healthz HTTP/1.1\nHost: x\n\n");
  ASSERT_EQ(h.status, HttpHeadStatus::kComplete) << h.error;
  EXPECT_EQ(h.path, "/healthz");
}

TEST(HttpRequest, OtherMethodsParseSoTheResponderCanSay405) {
  for (std::string_view m : {"POST", "PUT", "DELETE", "OPTIONS", "BREW"}) {
    std::string request = std::string(m) + " /metrics HTTP/1.1\r\n\r\n";
    auto h = parseHttpRequestHead(request);
    ASSERT_EQ(h.status, HttpHeadStatus::kComplete) << m;
    EXPECT_EQ(h.method, m);
  }
  EXPECT_EQ(parseHttpRequestHead("OPTIONS * HTTP/1.1\r\n\r\n").status, HttpHeadStatus::kComplete);
}

TEST(HttpRequest, EmptyHeaderValueAndTabsAreFine) {
  auto h = parseHttpRequestHead("GET / HTTP/1.1\r\nX-Empty:\r\nX-Tab:\ta\tb \r\n\r\n");
  EXPECT_EQ(h.status, HttpHeadStatus::kComplete) << h.error;
}

TEST(HttpRequest, MalformedHeadsAreRefused) {
  for (std::string_view bad : {
           "GET\r\n\r\n",                                  // no target
           "GET /metrics\r\n\r\n",                         // HTTP/0.9
           "GET  /metrics HTTP/1.1\r\n\r\n",               // two spaces
           "GET /metrics HTTP/1.1 \r\n\r\n",               // trailing space
           "GET metrics HTTP/1.1\r\n\r\n",                 // not a path
           "GET http://x/metrics HTTP/1.1\r\n\r\n",        // absolute form
           "GET /metrics HTTP/2.0\r\n\r\n",                // not HTTP/1.x
           "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",             // HTTP/2 preface
           "G(T /metrics HTTP/1.1\r\n\r\n",                // method not a token
           "GET /met\x7frics HTTP/1.1\r\n\r\n",            // DEL in target
           "GET /metrics HTTP/1.1\r\nHost x\r\n\r\n",      // no colon
           "GET /metrics HTTP/1.1\r\nHost : x\r\n\r\n",    // space before colon
           "GET /metrics HTTP/1.1\r\n: x\r\n\r\n",         // empty name
           "GET /metrics HTTP/1.1\r\nA: b\r\n c\r\n\r\n",  // obs-fold
           "GET /metrics HTTP/1.1\r\nA: b\x01\r\n\r\n",    // control byte
           "GET /metrics HTTP/1.1\rHost: x\r\n\r\n",       // stray CR
       }) {
    auto h = parseHttpRequestHead(bad);
    EXPECT_EQ(h.status, HttpHeadStatus::kMalformed) << bad;
    EXPECT_FALSE(h.error.empty()) << bad;
  }
}

TEST(HttpRequest, BinaryJunkIsRefusedBeforeTheHeadEnds) {
  // A TLS ClientHello's first bytes, and the uvframe wire format itself.
  EXPECT_EQ(parseHttpRequestHead(std::string_view("\x16\x03\x01\x02\x00", 5)).status,
            HttpHeadStatus::kMalformed);
  EXPECT_EQ(parseHttpRequestHead(std::string_view("\x05\x00\x00\x00hello", 9)).status,
            HttpHeadStatus::kMalformed);
  EXPECT_EQ(parseHttpRequestHead("GET /metrics HTTP/1.1\r").status, HttpHeadStatus::kIncomplete);
}

TEST(HttpRequest, HeadsPastTheLimitAreTooLarge) {
  std::string head = "GET /metrics HTTP/1.1\r\nX-Big: " + std::string(200, 'a') + "\r\n\r\n";
  EXPECT_EQ(parseHttpRequestHead(head, head.size()).status, HttpHeadStatus::kComplete);
  EXPECT_EQ(parseHttpRequestHead(head, head.size() - 1).status, HttpHeadStatus::kTooLarge);
  // Without an end in sight: too large as soon as the limit is reached.
  std::string endless = "GET /metrics HTTP/1.1\r\nX-Big: " + std::string(kMaxHttpHeadBytes, 'a');
  EXPECT_EQ(parseHttpRequestHead(endless).status, HttpHeadStatus::kTooLarge);
  EXPECT_EQ(parseHttpRequestHead(endless.substr(0, kMaxHttpHeadBytes - 1)).status,
            HttpHeadStatus::kIncomplete);
  // Endless empty lines count too.
  EXPECT_EQ(parseHttpRequestHead(std::string(kMaxHttpHeadBytes + 2, '\n')).status,
            HttpHeadStatus::kTooLarge);
}

TEST(HttpRequest, SplitHostPort) {
  std::string host, error;
  std::uint16_t port = 1;
  ASSERT_TRUE(splitHostPort("127.0.0.1:9100", host, port, error)) << error;
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 9100);
  ASSERT_TRUE(splitHostPort("[::1]:0", host, port, error)) << error;
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 0);
  ASSERT_TRUE(splitHostPort("localhost:65535", host, port, error)) << error;
  EXPECT_EQ(host, "localhost");
  EXPECT_EQ(port, 65535);
  for (std::string_view bad :
       {"", "9100", ":9100", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:+1",
        "127.0.0.1:91x", "::1:9100", "[::1]9100", "[::1", "[]:9100", "h:0000009100"}) {
    error.clear();
    EXPECT_FALSE(splitHostPort(bad, host, port, error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}

}  // namespace
}  // namespace uvframe
