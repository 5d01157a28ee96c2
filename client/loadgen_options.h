// LoadgenOptions: the command line of uvframe-loadgen, its defaults and its
// checks. Everything here is plain data, so the tests can parse and check
// options without opening a socket.
#pragma once

#include "cli_fwd.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "client_tls_options.h"
#include "frame_codec.h"
#include "framing.h"
#include "loadgen_proxy.h"

namespace uvframe {

struct LoadgenOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 9000;
  std::uint32_t connections = 0;
  double durationS = 0;                   ///< 0: not given
  std::uint64_t framesPerConnection = 0;  ///< 0: not given
  std::string sizeText = "64";            ///< "BYTES" or "MIN-MAX"
  std::uint32_t minSizeBytes = 64;
  std::uint32_t maxSizeBytes = 64;
  double rateFramesPerS = 0;   ///< total; 0: closed loop
  double connectRatePerS = 0;  ///< connections started per second; 0: no limit
  bool echo = false;
  std::uint32_t pipeline = 0;  ///< 0: default (1 with --echo, 16 without)
  unsigned threads = 0;        ///< 0: CPU count
  ByteOrder byteOrder = ByteOrder::kLittle;
  std::uint32_t maxFrameBytes = kDefaultMaxFrameBytes;
  /// --framing and its options; finishLoadgenOptions() folds byteOrder and
  /// maxFrameBytes in, so it is the whole wire format from then on.
  FramingOptions framing;
  std::vector<std::string> sourceAddresses;
  std::string jsonPath;
  std::string histogramPath;
  std::uint64_t maxErrors = 0;
  double connectTimeoutS = 10;
  double drainTimeoutS = 10;
  double progressIntervalS = 1;              ///< 0: no progress lines
  double warmupS = 0;                        ///< frames scheduled earlier are not timed
  std::uint64_t maxQueuedBytes = 16u << 20;  ///< per connection, open loop
  std::uint64_t seed = 1;
  ProxyProtocolVersion proxyProtocol = ProxyProtocolVersion::kOff;  ///< header sent first
  ClientTlsOptions tls;  ///< --tls...: TLS after the PROXY header (if any)

  bool openLoop() const { return rateFramesPerS > 0; }
};

/// Registers every option of uvframe-loadgen on app, bound to options.
void addLoadgenOptions(CLI::App& app, LoadgenOptions& options);

/// Checks what CLI11 cannot (ranges that depend on each other, --size) and
/// fills in the defaults that depend on other options. Returns an error text
/// naming the option, or an empty string when the options are usable.
std::string finishLoadgenOptions(LoadgenOptions& options, unsigned cpuCount);

/// Parses "BYTES" or "MIN-MAX" into min and max; false if malformed.
bool parseSizeRange(std::string_view text, std::uint32_t& minBytes, std::uint32_t& maxBytes);

}  // namespace uvframe
