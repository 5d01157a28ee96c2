// ServerOptions: every knob of uvframe-server, with the defaults a user gets
// when starting it with no arguments, and the command line that sets them.
#pragma once

#include <spdlog/common.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "frame_codec.h"
#include "framing.h"
#include "json_line_formatter.h"
#include "payload_renderer.h"

namespace uvframe {

/// Whether connections must begin with a PROXY protocol header, and which.
enum class ProxyMode : std::uint8_t { kOff, kV1, kV2, kAny };

std::string_view toString(ProxyMode mode);

/// Plain settings; read-only once the server starts (shared by all threads).
struct ServerOptions {
  std::string host = "0.0.0.0";
  std::uint16_t port = 9000;
  unsigned workers = 0;  ///< 0: one per CPU
  ByteOrder byteOrder = ByteOrder::kLittle;
  std::uint32_t maxFrameBytes = kDefaultMaxFrameBytes;
  FramingOptions framing;  ///< --framing...; byte order and max-frame copied in once checked
  bool echo = false;
  double idleTimeoutSeconds = 0;      ///< 0: never
  double frameTimeoutSeconds = 30;    ///< 0: never
  double writeTimeoutSeconds = 30;    ///< 0: never (echo bytes untaken this long)
  double drainTimeoutSeconds = 10;    ///< shutdown: read what was sent, at most this long
  unsigned tcpKeepaliveSeconds = 60;  ///< 0: off
  std::size_t maxConnections = 0;     ///< 0: as many as descriptors allow
  std::string logFile;
  spdlog::level::level_enum logLevel = spdlog::level::info;
  bool console = true;
  LogFormat logFormat = LogFormat::kText;  ///< --log-format text|json
  std::uint64_t logMaxSizeBytes = 0;       ///< rotate the log file at this size (0: never)
  unsigned logMaxFiles = 0;                ///< rotated files kept: server.log.1 … .N (0: none)
  std::string payloadEncoding = "auto";    ///< per payload: UTF-8, else Korean CP949, else escapes
  std::size_t maxLoggedBytes = kDefaultMaxLoggedBytes;
  double statsIntervalSeconds = 60;  ///< 0: only the final stats line
  std::size_t maxInputMemoryBytes = std::size_t{256} << 20;
  std::size_t readBufferBytes = 64 * 1024;
  std::size_t echoHighWaterBytes = std::size_t{1} << 20;
  int listenBacklog = 4096;  ///< the kernel caps it at net.core.somaxconn
  ProxyMode proxyProtocol = ProxyMode::kOff;
  std::string trustedProxies = "127.0.0.0/8,::1/128";  ///< CIDR list (--trusted-proxies)
  double proxyTimeoutSeconds = 3;       ///< the PROXY header must be complete within it
  double maxConnectionAgeSeconds = 0;   ///< 0: never; else closed after the current frame
  std::string metricsAddress;           ///< "HOST:PORT" of /metrics and /healthz; "": off
  std::string allow;                    ///< CIDR list; "": everyone
  std::string deny;                     ///< CIDR list; "": no one
  std::size_t maxConnectionsPerIp = 0;  ///< 0: no limit
  double maxFrameRate = 0;              ///< frames/s per connection; 0: none
  std::uint64_t maxByteRate = 0;        ///< bytes/s per connection; 0: none
  std::string tlsCert;                  ///< PEM chain; with tlsKey: the listener is TLS-only
  std::string tlsKey;                   ///< PEM private key (no passphrase)
  std::string tlsClientCa;              ///< PEM CAs; "": no client certificate asked (no mTLS)
  double tlsHandshakeTimeoutSeconds = 10;
  bool tls() const { return !tlsCert.empty(); }
};

/// The part of each worker's budget kept for growing to one whole frame
/// (BufferPool rule 2): the block of the largest frame when frames larger
/// than the read buffer are kept whole (--echo, or a --max-logged-bytes too
/// large to skim), else 0.
std::size_t growthReserveBytes(const ServerOptions& options);

/// Each worker's share of --max-input-memory (0: unlimited), never below what
/// the memory rule needs to make progress: the growth reserve plus two
/// chunks.
std::size_t inputMemoryPerWorker(const ServerOptions& options);

/// Parses argv into options. Returns -1 to go on, or the exit code to return
/// (0 after --help/--version, 2 after a bad argument, with its message).
int parseServerOptions(int argc, char** argv, ServerOptions& options);

}  // namespace uvframe
