// LoadgenOptions: see loadgen_options.h.
#include "loadgen_options.h"

#include <uv.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <charconv>

#include "cli_support.h"
#include "framing_cli.h"
#include "framing_limits.h"
#include "peer_address.h"

namespace uvframe {
namespace {

bool parseUint32(std::string_view text, std::uint32_t& value) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

void addTrafficOptions(CLI::App& app, LoadgenOptions& o) {
  app.add_option("--connections", o.connections, "connections to open")
      ->required()
      ->check(CLI::Range(1u, 1000000u));
  app.add_option("--duration", o.durationS, "seconds of load (default 10 when no frame count)")
      ->check(CLI::PositiveNumber);
  app.add_option("--frames-per-connection", o.framesPerConnection,
                 "frames each connection sends, then it closes")
      ->check(CLI::Range(std::uint64_t{1}, UINT64_MAX));
  app.add_option("--size", o.sizeText, "payload bytes: BYTES or MIN-MAX (uniform)")
      ->capture_default_str();
  app.add_option(
         "--rate", o.rateFramesPerS,
         "open loop: frames per second in total, on a fixed schedule (default: closed loop)")
      ->check(CLI::PositiveNumber);
  app.add_option("--connect-rate", o.connectRatePerS, "connections started per second (ramp-up)")
      ->check(CLI::PositiveNumber);
  app.add_flag("--echo", o.echo,
               "expect every frame back (server --echo); check it, measure latency");
  app.add_option("--pipeline", o.pipeline,
                 "closed loop: frames in flight per connection (default 1 with --echo, about 64 "
                 "KiB worth without)")
      ->check(CLI::Range(1u, 1000000u));
}

void addRunOptions(CLI::App& app, LoadgenOptions& o) {
  app.add_option("--host", o.host, "server host name or address")->capture_default_str();
  app.add_option("--port", o.port, "server port")->capture_default_str();
  app.add_option("--threads", o.threads, "event loops (default: CPU count)")
      ->check(CLI::Range(1u, 256u));
  addByteOrderOption(app, o.byteOrder);
  app.add_option("--max-frame", o.maxFrameBytes, "largest frame payload in bytes")
      ->capture_default_str();
  addFramingOptions(app, o.framing);
  app.add_option("--source-address", o.sourceAddresses,
                 "local addresses to spread connections over (comma-separated), e.g. "
                 "127.0.0.1,127.0.0.2 when one address runs out of ephemeral ports")
      ->delimiter(',');
  app.add_option("--json", o.jsonPath, "write the summary as JSON to this file");
  app.add_option("--histogram", o.histogramPath,
                 "write the latency percentile distribution (text, for plot-latency.py)");
  app.add_option("--max-errors", o.maxErrors, "errors tolerated before the exit status is 1")
      ->capture_default_str();
  app.add_option("--connect-timeout", o.connectTimeoutS, "seconds a connect may take")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--drain-timeout", o.drainTimeoutS,
                 "seconds to wait at the end for echoes and for the server to close")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--progress-interval", o.progressIntervalS,
                 "seconds between progress lines on stderr (0: none)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--warmup", o.warmupS,
                 "seconds at the start (connection ramp-up) left out of the latency figures")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--max-queued-bytes", o.maxQueuedBytes,
                 "open loop: bytes queued per connection before its schedule waits")
      ->capture_default_str();
  app.add_option("--seed", o.seed, "seed for random payload sizes")->capture_default_str();
  app.add_option_function<std::string>(
         "--proxy-protocol",
         [&o](const std::string& text) {
           auto parsed = parseProxyProtocolVersion(text);
           if (!parsed) throw CLI::ValidationError("--proxy-protocol", "must be off, v1 or v2");
           o.proxyProtocol = *parsed;
         },
         "send a PROXY protocol header (v1 text, v2 binary) first on every connection, with a "
         "distinct made-up client address from 198.18.0.0/15 (for a server run with "
         "--proxy-protocol; not counted in bytes sent)")
      ->check(CLI::IsMember({"off", "v1", "v2"}))
      ->default_str("off");
  addClientTlsOptions(app, o.tls);
}

// Empty when the framing can announce every payload size from minBytes to
// maxBytes, else why not. The sizes a framing can announce form one range
// (a length field's values plus the adjust; 1 and up for octet-counting; all
// for varint), so the two ends decide.
std::string checkSizesAnnounced(const FramingOptions& f, std::uint32_t minBytes,
                                std::uint32_t maxBytes) {
  for (std::uint32_t size : {minBytes, maxBytes}) {
    if (std::string why = whyNotAnnounced(f, size); !why.empty()) {
      return "--size: a payload of " + std::to_string(size) + " bytes cannot be sent: " + why;
    }
  }
  return {};
}

}  // namespace

bool parseSizeRange(std::string_view text, std::uint32_t& minBytes, std::uint32_t& maxBytes) {
  auto dash = text.find('-');
  if (dash == std::string_view::npos) {
    if (!parseUint32(text, minBytes)) return false;
    maxBytes = minBytes;
    return true;
  }
  return parseUint32(text.substr(0, dash), minBytes) &&
         parseUint32(text.substr(dash + 1), maxBytes) && minBytes <= maxBytes;
}

void addLoadgenOptions(CLI::App& app, LoadgenOptions& options) {
  addTrafficOptions(app, options);
  addRunOptions(app, options);
}

std::string finishLoadgenOptions(LoadgenOptions& o, unsigned cpuCount) {
  if (!parseSizeRange(o.sizeText, o.minSizeBytes, o.maxSizeBytes)) {
    return "--size: '" + o.sizeText + "' is not BYTES or MIN-MAX with MIN <= MAX";
  }
  if (o.maxSizeBytes > o.maxFrameBytes) {
    return "--size: " + std::to_string(o.maxSizeBytes) + " bytes is above --max-frame " +
           std::to_string(o.maxFrameBytes);
  }
  if (std::string error = finishFramingOptions(o.framing, o.byteOrder, o.maxFrameBytes);
      !error.empty()) {
    return error;
  }
  if (std::string error = checkSizesAnnounced(o.framing, o.minSizeBytes, o.maxSizeBytes);
      !error.empty()) {
    return error;
  }
  for (const auto& source : o.sourceAddresses) {
    sockaddr_storage storage{};
    if (!parseNumericAddress(source, 0, &storage, sizeof storage)) {
      return "--source-address: '" + source + "' is not a numeric IPv4 or IPv6 address";
    }
  }
  if (std::string error = finishClientTlsOptions(o.tls); !error.empty()) return error;
  if (o.durationS == 0 && o.framesPerConnection == 0) o.durationS = 10;
  if (o.pipeline == 0) {
    // Without echo, keep about 64 KiB in flight per connection: 16 small
    // frames per connection capped a run near 2 M frames/s, far below what
    // the server takes.
    auto frameBytes =
        static_cast<std::uint32_t>(o.maxSizeBytes + framingHeaderBytes(o.framing, o.maxSizeBytes));
    o.pipeline = o.echo ? 1 : std::max<unsigned>(16, 65536 / frameBytes);
  }
  if (o.threads == 0) o.threads = std::max(1u, cpuCount);
  o.threads = std::min<unsigned>(o.threads, o.connections);
  return {};
}

}  // namespace uvframe
