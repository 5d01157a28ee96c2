// uvframe-client: sends each MESSAGE argument (or each line of standard
// input) to a uvframe server as one frame, printing one line per frame:
//
//   [tcp client] connected to 127.0.0.1:9000 from 127.0.0.1:55244
//   [tcp client] sent 4+10 bytes
//   [tcp client] echo 4+10 bytes: 안녕하세요          (with --echo)
//
// (header + payload bytes: the header is that of the chosen framing, e.g.
// "sent 3+10 bytes" with --framing octet-counting, whose header is "10 ").
//
// --encoding cp949 converts the UTF-8 input before sending, so the bytes on
// the wire are those of the classic Windows client. Exit status: 0 when every
// frame was sent (and echoed, with --echo), 1 on a runtime failure (server
// down, name not resolved, message too large or not announceable in the
// framing, TLS handshake failed, ...), 2 on bad arguments (a bad framing
// combination included). --tls (client_tls_options.h) speaks TLS; the connected line
// then names the version, the cipher and the server's certificate subject.
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "block_sink.h"
#include "charset_encoder.h"
#include "cli_support.h"
#include "client_tls_options.h"
#include "frame_client.h"
#include "framing_cli.h"
#include "framing_limits.h"
#include "host_resolver.h"
#include "payload_renderer.h"

namespace {

using namespace uvframe;

struct ClientOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 9000;
  ByteOrder byteOrder = ByteOrder::kLittle;
  std::string encoding = "utf-8";
  bool echo = false;
  std::uint32_t maxFrameBytes = kDefaultMaxFrameBytes;
  double timeoutS = 10.0;
  /// --framing and its options; byteOrder and maxFrameBytes are folded in
  /// by finishFramingOptions() in main().
  FramingOptions framing;
  ClientTlsOptions tls;
  std::vector<std::string> messages;
};

void addOptions(CLI::App& app, ClientOptions& o) {
  app.add_option("--host", o.host, "server host name or address")->capture_default_str();
  app.add_option("--port", o.port, "server port")->capture_default_str();
  addByteOrderOption(app, o.byteOrder);
  app.add_option("--encoding", o.encoding,
                 "charset to convert the UTF-8 input to before sending (utf-8, cp949, euc-kr)")
      ->capture_default_str();
  app.add_flag("--echo", o.echo, "wait for each frame to come back and print it");
  app.add_option("--max-frame", o.maxFrameBytes, "largest payload in bytes")->capture_default_str();
  addFramingOptions(app, o.framing);
  app.add_option("--timeout", o.timeoutS, "seconds to wait for connect, send and echo")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  addClientTlsOptions(app, o.tls);
  app.add_option("MESSAGE", o.messages, "messages to send (none: one per line of stdin)");
}

int fail(const std::string& text) {
  std::fprintf(stderr, "uvframe-client: error: %s\n", text.c_str());
  return 1;
}

/// Sends messages one at a time, reading them through next().
class ClientRun {
 public:
  ClientRun(const ClientOptions& o, CharsetEncoder& encoder)
      : options_(o),
        encoder_(encoder),
        renderer_(o.encoding),
        client_(o.framing, std::chrono::milliseconds(static_cast<long>(o.timeoutS * 1000))),
        log_(std::make_shared<spdlog::logger>("client",
                                              std::make_shared<spdlog::sinks::stdout_sink_st>())) {
    log_->set_pattern(kLogPattern);
    log_->flush_on(spdlog::level::info);
  }

  /// The bytes to send for text, or nullopt after reporting why not.
  std::optional<std::string> prepare(const std::string& text, std::size_t index) {
    std::string error;
    auto bytes = encoder_.encode(text, error);
    if (!bytes) {
      fail("message " + std::to_string(index) + " cannot be sent as " + encoder_.encoding() + ": " +
           error);
      return std::nullopt;
    }
    if (bytes->size() > options_.maxFrameBytes) {
      fail("message " + std::to_string(index) + " is " + std::to_string(bytes->size()) +
           " bytes, above the frame limit (--max-frame " + std::to_string(options_.maxFrameBytes) +
           ")");
      return std::nullopt;
    }
    if (std::string why = whyNotAnnounced(options_.framing, bytes->size()); !why.empty()) {
      fail("message " + std::to_string(index) + " (" + std::to_string(bytes->size()) +
           " bytes) cannot be sent: " + why);
      return std::nullopt;
    }
    return bytes;
  }

  void connect(const ResolvedHost& resolved, std::shared_ptr<TlsContext> tls) {
    client_.setKeepReceived(options_.echo);
    if (tls) client_.useTls(std::move(tls));
    client_.connect(resolved.addresses, options_.host + ":" + std::to_string(options_.port));
    std::string details = client_.tlsSummary();
    log_->info("[tcp client] connected to {} from {}{}", client_.remoteAddress(),
               client_.localAddress(), details.empty() ? "" : " (" + details + ")");
  }

  /// Sends one frame; false if the echo did not match.
  bool sendOne(const std::string& bytes) {
    std::size_t headerBytes = client_.send(bytes);
    log_->info("[tcp client] sent {}+{} bytes", headerBytes, bytes.size());
    if (!options_.echo) return true;
    std::size_t echoHeaderBytes = 0;
    std::string echoed = client_.receiveFrame(&echoHeaderBytes);
    std::string text;
    renderer_.render(std::as_bytes(std::span(echoed.data(), echoed.size())), text);
    log_->info("[tcp client] echo {}+{} bytes: {}", echoHeaderBytes, echoed.size(), text);
    if (echoed == bytes) return true;
    fail("the echo differs from the frame sent");
    return false;
  }

  void finish() { client_.finish(); }

 private:
  const ClientOptions& options_;
  CharsetEncoder& encoder_;
  PayloadRenderer renderer_;
  FrameClient client_;
  std::shared_ptr<spdlog::logger> log_;
};

int run(const ClientOptions& o, CharsetEncoder& encoder) {
  ClientRun run(o, encoder);
  // With MESSAGE arguments, check them all before connecting so a bad one
  // sends nothing.
  std::vector<std::string> prepared;
  for (std::size_t i = 0; i < o.messages.size(); ++i) {
    auto bytes = run.prepare(o.messages[i], i + 1);
    if (!bytes) return 1;
    prepared.push_back(std::move(*bytes));
  }
  std::shared_ptr<TlsContext> tls;
  if (o.tls.enabled) {
    std::string error;
    tls = makeClientTlsContext(o.tls, o.host, error);
    if (!tls) return fail("TLS: " + error);
  }
  ResolvedHost resolved = resolveHost(o.host, o.port);
  if (resolved.addresses.empty()) return fail("cannot resolve '" + o.host + "': " + resolved.error);
  run.connect(resolved, std::move(tls));
  bool allMatched = true;
  if (!o.messages.empty()) {
    for (const auto& bytes : prepared)
      allMatched = run.sendOne(bytes) && allMatched;
  } else {
    std::string line;
    for (std::size_t index = 1; std::getline(std::cin, line); ++index) {
      // A CRLF file sends the same messages as an LF one.
      if (!line.empty() && line.back() == '\r') line.pop_back();
      auto bytes = run.prepare(line, index);
      if (!bytes) {
        run.finish();
        return 1;
      }
      allMatched = run.sendOne(*bytes) && allMatched;
    }
  }
  run.finish();
  return allMatched ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "uvframe-client: sends messages to a uvframe server as frames (length-prefixed, "
      "octet-counted or varint-prefixed: see --framing)",
      "uvframe-client"};
  app.set_version_flag("--version", uvframe::kVersion);
  ClientOptions options;
  addOptions(app, options);
  if (int rc = uvframe::parseCommandLine(app, argc, argv); rc >= 0) return rc;
  std::string error =
      uvframe::finishFramingOptions(options.framing, options.byteOrder, options.maxFrameBytes);
  if (error.empty()) error = uvframe::finishClientTlsOptions(options.tls);
  if (!error.empty()) {
    std::fprintf(stderr, "uvframe-client: error: %s (see --help)\n", error.c_str());
    return 2;
  }
  uvframe::ignoreSigpipe();

  std::optional<CharsetEncoder> encoder;
  try {
    encoder.emplace(options.encoding);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "uvframe-client: error: --encoding: %s (see --help)\n", e.what());
    return 2;
  }
  try {
    return run(options, *encoder);
  } catch (const ClientError& e) {
    return fail(e.what());
  } catch (const std::exception& e) {
    return fail(e.what());
  }
}
