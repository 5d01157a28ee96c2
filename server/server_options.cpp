// Command line of uvframe-server (CLI11). The option names and meanings are
// the product contract in SPEC.md; the help text is the user's manual.
#include "server_options.h"

#include <uv.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "cidr.h"
#include "cli_support.h"
#include "config_file.h"
#include "framing_cli.h"
#include "http_request.h"
#include "tls_context.h"

namespace uvframe {
namespace {

const std::map<std::string, spdlog::level::level_enum> kLevels = {
    {"trace", spdlog::level::trace},       {"debug", spdlog::level::debug},
    {"info", spdlog::level::info},         {"warn", spdlog::level::warn},
    {"warning", spdlog::level::warn},      {"error", spdlog::level::err},
    {"critical", spdlog::level::critical}, {"off", spdlog::level::off},
};

/// Where the options came from: the command line and, with --config, a file.
/// Names the file line of an option that the file (not the command line) set,
/// for the one-line error about it.
class OptionSources {
 public:
  OptionSources(int argc, char** argv) {
    for (int i = 1; i < argc; ++i)
      args_.emplace_back(argv[i]);
    for (std::size_t i = 0; i < args_.size(); ++i) {
      if (args_[i] == "--config" && i + 1 < args_.size()) configPath_ = args_[i + 1];
      if (args_[i].starts_with("--config=")) configPath_ = args_[i].substr(9);
    }
    if (!configPath_.empty()) scan_ = scanConfigFile(configPath_);
  }

  const std::string& configPath() const { return configPath_; }
  const std::optional<ConfigFileScan>& scan() const { return scan_; }

  /// Whether the command line names the option (long name with its dashes).
  bool onCommandLine(std::string_view name) const {
    for (const auto& arg : args_) {
      if (arg == name) return true;
      if (arg.size() > name.size() && arg.starts_with(name) && arg[name.size()] == '=') return true;
    }
    return false;
  }
  bool wantsHelp() const { return onCommandLine("--help") || onCommandLine("-h"); }

  /// "FILE:LINE: " when the value of option `name` ("--port") came from the
  /// config file; "" when it came from the command line or a default.
  std::string where(std::string_view name, bool duplicate = false) const {
    if (!scan_ || onCommandLine(name) || !name.starts_with("--")) return {};
    std::string_view key = name.substr(2);
    int line = duplicate ? scan_->duplicateLineOf(key) : scan_->lineOf(key);
    if (line == 0) return {};
    return configPath_ + ":" + std::to_string(line) + ": ";
  }

 private:
  std::vector<std::string> args_;
  std::string configPath_;
  std::optional<ConfigFileScan> scan_;
};

int fail(const std::string& where, const std::string& message) {
  std::fprintf(stderr, "uvframe-server: error: %s%s%s\n", where.c_str(), message.c_str(),
               where.empty() ? " (see --help)" : "");
  return 2;
}

/// The file key CLI11's message is about: "--port: Value …", "Could not
/// convert: --echo = maybe", "config: This option is not allowed …".
std::optional<std::string> keyNamedIn(const std::string& what, const ConfigFileScan& scan) {
  std::optional<std::string> best;
  auto isNameChar = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  };
  for (const auto& key : scan.keys) {
    if (best && best->size() >= key.name.size()) continue;
    std::string dashed = "--" + key.name;
    for (std::size_t at = what.find(dashed); at != std::string::npos;
         at = what.find(dashed, at + 1)) {
      std::size_t after = at + dashed.size();
      if (after == what.size() || !isNameChar(what[after])) {
        best = key.name;
        break;
      }
    }
    if (what.starts_with(key.name + ":")) best = key.name;
  }
  return best;
}

/// Rewrites a CLI11 parse error into the one line the user sees, with the
/// config file line when the option came from the file.
int reportParseError(const CLI::ParseError& e, const CLI::App& app, const OptionSources& sources) {
  std::string what = e.what();
  for (char& c : what) {
    if (c == '\n') c = ' ';
  }
  const auto& scan = sources.scan();
  if (!scan) return fail("", what);
  const std::string& path = sources.configPath();
  if (dynamic_cast<const CLI::ConfigError*>(&e) != nullptr) {
    for (const auto& key : scan->keys) {
      if (app.get_option_no_throw("--" + key.name) == nullptr)
        return fail(path + ":" + std::to_string(key.line) + ": ",
                    "unknown option \"" + key.name + "\"");
    }
    // A key CLI11 refuses in a file (config itself).
    if (auto key = keyNamedIn(what, *scan))
      return fail(path + ":" + std::to_string(scan->lineOf(*key)) + ": ", what);
    if (scan->badLine != 0)
      return fail(path + ":" + std::to_string(scan->badLine) + ": ",
                  "cannot read \"" + scan->badText + "\" (expected: option = value)");
  }
  if (auto key = keyNamedIn(what, *scan)) {
    bool duplicate = dynamic_cast<const CLI::ArgumentMismatch*>(&e) != nullptr &&
                     scan->duplicateLineOf(*key) != 0;
    std::string where = sources.where("--" + *key, duplicate);
    if (!where.empty())
      return fail(where, duplicate ? "--" + *key + " is set twice (also on line " +
                                         std::to_string(scan->lineOf(*key)) + ")"
                                   : what);
  }
  return fail("", what);
}

}  // namespace

std::string_view toString(ProxyMode mode) {
  switch (mode) {
    case ProxyMode::kOff:
      return "off";
    case ProxyMode::kV1:
      return "v1";
    case ProxyMode::kV2:
      return "v2";
    case ProxyMode::kAny:
      return "any";
  }
  return "off";
}

std::size_t growthReserveBytes(const ServerOptions& o) {
  std::size_t chunk = o.readBufferBytes;
  const std::size_t header = framingMaxHeaderBytes(o.framing);
  bool skims = !o.echo && header + o.maxLoggedBytes <= chunk / 2;
  std::size_t frame = o.maxFrameBytes + header;
  if (skims || frame <= chunk) return 0;
  return (frame + chunk - 1) / chunk * chunk;
}

std::size_t inputMemoryPerWorker(const ServerOptions& o) {
  if (o.maxInputMemoryBytes == 0) return 0;
  std::size_t floor = growthReserveBytes(o) + 2 * o.readBufferBytes;
  return std::max(o.maxInputMemoryBytes / std::max(o.workers, 1u), floor);
}

int parseServerOptions(int argc, char** argv, ServerOptions& o) {
  CLI::App app{
      "uvframe-server: accepts many TCP clients, reassembles length-prefixed frames\n"
      "(4-byte length + payload) and logs every message with the peer's address.",
      "uvframe-server"};
  app.set_version_flag("--version", std::string("uvframe-server ") + kVersion);
  app.get_formatter()->column_width(34);
  app.set_config("--config", "",
                 "read options from this TOML file: every option below, named without --, "
                 "e.g. max-frame = \"64KiB\" (see etc/uvframe/server.toml); the command line "
                 "wins over the file")
      ->type_name("PATH")
      ->check(CLI::ExistingFile);
  app.allow_config_extras(CLI::config_extras_mode::error);

  app.add_option("--host", o.host, "address to listen on (IPv4 or IPv6, e.g. 0.0.0.0, ::, ::1)")
      ->capture_default_str();
  app.add_option("--port", o.port, "TCP port; 0 lets the system pick one (the log shows it)")
      ->capture_default_str();
  app.add_option("--workers", o.workers, "event-loop threads (default: one per CPU)")
      ->check(CLI::Range(0u, 1024u));
  addByteOrderOption(app, o.byteOrder);
  addFramingOptions(app, o.framing);
  app.add_option("--max-frame", o.maxFrameBytes,
                 "largest payload accepted, in bytes; a longer length closes the connection")
      ->capture_default_str()
      ->transform(CLI::AsSizeValue(false));
  app.add_flag("--echo", o.echo, "send each frame back (same format) after logging it");
  app.add_option("--idle-timeout", o.idleTimeoutSeconds,
                 "close a connection silent for this many seconds (0: never)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--frame-timeout", o.frameTimeoutSeconds,
                 "close a connection whose started frame is not complete within this many "
                 "seconds (0: never)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--write-timeout", o.writeTimeoutSeconds,
                 "with --echo, close a peer that takes none of its queued echo bytes for this "
                 "many seconds (0: never)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--drain-timeout", o.drainTimeoutSeconds,
                 "on SIGINT/SIGTERM, read and log what peers sent before the signal for at most "
                 "this many seconds, then close them and exit")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--tcp-keepalive", o.tcpKeepaliveSeconds,
                 "TCP keepalive on every connection: probe after this many idle seconds, so "
                 "dead peers are found (0: off)")
      ->capture_default_str()
      ->check(CLI::Range(0u, 86400u));
  app.add_option("--max-connections", o.maxConnections,
                 "refuse connections beyond this many at once (0: as descriptors allow)")
      ->capture_default_str();
  app.add_option("--log-file", o.logFile, "append the log to this file (SIGHUP reopens it)");
  app.add_option_function<std::string>(
         "--log-level", [&o](const std::string& s) { o.logLevel = kLevels.at(s); },
         "trace, debug, info (every message), warn (no message lines), error, off")
      ->check(CLI::IsMember(kLevels))
      ->default_str("info");
  app.add_flag_callback(
      "--no-console", [&o] { o.console = false; }, "do not write the log to standard output");
  static const std::map<std::string, LogFormat> kLogFormats = {{"text", LogFormat::kText},
                                                               {"json", LogFormat::kJson}};
  app.add_option_function<std::string>(
         "--log-format", [&o](const std::string& s) { o.logFormat = kLogFormats.at(s); },
         "text (the classic lines), or json: one JSON object per line with ts, level, event "
         "(listening, connected, message, disconnected, stats, warning, notice, error), ip and "
         "port; a message's payload is its text exactly (\"escaped\":true when it is not "
         "valid UTF-8, then rendered as in text)")
      ->check(CLI::IsMember(std::vector<std::string>{"text", "json"}))
      ->default_str("text");
  app.add_option("--log-max-size", o.logMaxSizeBytes,
                 "with --log-file and --log-max-files, rotate the file when it reaches this "
                 "size (e.g. 100MiB), at a line end: it passes the size by at most one line "
                 "(0: never)")
      ->capture_default_str()
      ->transform(CLI::AsSizeValue(false));
  app.add_option("--log-max-files", o.logMaxFiles,
                 "with --log-max-size, rotated files kept: FILE.1 (newest) … FILE.N; the oldest "
                 "is dropped (0: no rotation)")
      ->capture_default_str()
      ->check(CLI::Range(0u, 100000u));
  app.add_option("--payload-encoding", o.payloadEncoding,
                 "charset of the payloads, decoded for the log: auto (each payload: UTF-8 if "
                 "valid, else CP949 if it is Hangul, else escaped bytes), utf-8, cp949, euc-kr "
                 "or any charset iconv knows")
      ->capture_default_str();
  app.add_option("--max-logged-bytes", o.maxLoggedBytes,
                 "log at most this many payload bytes per message, then ' …(+K bytes)'")
      ->capture_default_str()
      ->transform(CLI::AsSizeValue(false));
  app.add_option("--stats-interval", o.statsIntervalSeconds,
                 "seconds between stats lines (0: only the final one at shutdown)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--max-input-memory", o.maxInputMemoryBytes,
                 "budget for all partially received frames together (e.g. 256MiB); past it the "
                 "server stops reading from the peers that would need more until memory frees")
      ->capture_default_str()
      ->transform(CLI::AsSizeValue(false));
  app.add_option("--read-buffer", o.readBufferBytes,
                 "receive buffer lent to a connection while it has bytes pending")
      ->capture_default_str()
      ->transform(CLI::AsSizeValue(false))
      ->check(CLI::Range(std::size_t{4096}, std::size_t{64} << 20));
  app.add_option("--echo-high-water", o.echoHighWaterBytes,
                 "with --echo, stop reading a peer whose unsent echo bytes pass this")
      ->capture_default_str()
      ->transform(CLI::AsSizeValue(false));
  static const std::map<std::string, ProxyMode> kProxyModes = {{"off", ProxyMode::kOff},
                                                               {"v1", ProxyMode::kV1},
                                                               {"v2", ProxyMode::kV2},
                                                               {"any", ProxyMode::kAny}};
  app.add_option_function<std::string>(
         "--proxy-protocol", [&o](const std::string& s) { o.proxyProtocol = kProxyModes.at(s); },
         "off, or every connection must begin with a PROXY protocol header (v1, v2 or any) and "
         "is logged as the client address the header carries")
      ->check(CLI::IsMember(std::vector<std::string>{"off", "v1", "v2", "any"}))
      ->default_str("off");
  app.add_option("--trusted-proxies", o.trustedProxies,
                 "with --proxy-protocol, the balancers' addresses (CIDR list); a connection "
                 "from anywhere else is closed")
      ->capture_default_str();
  app.add_option("--proxy-timeout", o.proxyTimeoutSeconds,
                 "with --proxy-protocol, close a connection whose header is not complete "
                 "within this many seconds")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--max-connection-age", o.maxConnectionAgeSeconds,
                 "close a connection this many seconds old after its current frame, so a "
                 "balancer can rebalance (0: never)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--metrics", o.metricsAddress,
                 "serve GET /metrics (Prometheus text format) and GET /healthz on HOST:PORT "
                 "(e.g. 127.0.0.1:9100; default off)");
  app.add_option("--allow", o.allow,
                 "only clients in these networks (CIDR list, IPv4 and IPv6; with "
                 "--proxy-protocol the address the header names); default everyone");
  app.add_option("--deny", o.deny, "refuse clients in these networks (CIDR list)");
  app.add_option("--max-connections-per-ip", o.maxConnectionsPerIp,
                 "refuse a client address's connections beyond this many at once (0: no limit)")
      ->capture_default_str();
  app.add_option("--max-frame-rate", o.maxFrameRate,
                 "frames per second per connection; past it the server stops reading that peer "
                 "until its budget refills, dropping nothing (0: none)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--max-byte-rate", o.maxByteRate,
                 "bytes per second per connection (e.g. 1MiB), the same way (0: none)")
      ->capture_default_str()
      ->transform(CLI::AsSizeValue(false));
  app.add_option("--tls-cert", o.tlsCert,
                 "certificate chain (PEM); with --tls-key the listener speaks only TLS 1.2/1.3");
  app.add_option("--tls-key", o.tlsKey, "private key of --tls-cert (PEM, no passphrase)");
  app.add_option("--tls-client-ca", o.tlsClientCa,
                 "CA certificates (PEM): clients must present a certificate one of them signed "
                 "(mutual TLS); the connected line names its subject");
  app.add_option("--tls-handshake-timeout", o.tlsHandshakeTimeoutSeconds,
                 "close a TLS connection whose handshake is not done within this many seconds")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.footer(
      "Signals: SIGINT/SIGTERM drain (every complete frame the kernel held at the signal is\n"
      "logged, the accept backlog included), close, write the final stats line and exit 0,\n"
      "within --drain-timeout plus a second; SIGHUP reopens the log file (also during a\n"
      "drain), and with --tls-cert the certificate and key (a bad pair keeps the old one).\n"
      "Memory: --max-input-memory bounds every byte held for peers (partial frames,\n"
      "queued echoes); a refused peer waits, and stays subject to --frame-timeout.\n"
      "Config file: --config PATH reads any of these options from a TOML file, one\n"
      "`option = value` per line (flags as `echo = true`); an option given on the command\n"
      "line wins over the file. Every option with its default: etc/uvframe/server.toml\n"
      "(installed as /etc/uvframe/server.toml).");

  OptionSources sources(argc, argv);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (answerHelpOrVersion(e, app)) return 0;
    // CLI11 reads the config file before it looks at --help: a broken file
    // must not hide the manual.
    if (sources.wantsHelp()) {
      std::fputs(app.help().c_str(), stdout);
      return 0;
    }
    return reportParseError(e, app, sources);
  }
  // CLI11 quietly keeps one of two settings of some options: refuse both.
  if (const auto& scan = sources.scan()) {
    for (const auto& key : scan->keys) {
      if (int again = scan->duplicateLineOf(key.name))
        return fail(
            sources.configPath() + ":" + std::to_string(again) + ": ",
            "--" + key.name + " is set twice (also on line " + std::to_string(key.line) + ")");
    }
  }
  try {
    PayloadRenderer probe(o.payloadEncoding);
  } catch (const std::invalid_argument& e) {
    return fail(sources.where("--payload-encoding"),
                std::string("--payload-encoding: ") + e.what());
  }
  for (auto [name, text] :
       {std::pair<const char*, const std::string*>{"--trusted-proxies", &o.trustedProxies},
        {"--allow", &o.allow},
        {"--deny", &o.deny}}) {
    std::string cidrError;
    if (!CidrList::parse(*text, &cidrError))
      return fail(sources.where(name), std::string(name) + ": " + cidrError);
  }
  if (!o.metricsAddress.empty()) {
    std::string host;
    std::uint16_t port = 0;
    std::string why;
    if (!splitHostPort(o.metricsAddress, host, port, why))
      return fail(sources.where("--metrics"), "--metrics: " + why);
  }
  if (o.tlsCert.empty() != o.tlsKey.empty())
    return fail(sources.where(o.tlsCert.empty() ? "--tls-key" : "--tls-cert"),
                "--tls-cert and --tls-key go together");
  if (!o.tlsClientCa.empty() && o.tlsCert.empty())
    return fail(sources.where("--tls-client-ca"), "--tls-client-ca needs --tls-cert and --tls-key");
  if (o.tls()) {
    // Load the files now, so a wrong path or a key that does not fit is a
    // usage error naming the option (the server loads them again to start).
    std::string why;
    if (!TlsContext::createServer({o.tlsCert, o.tlsKey, o.tlsClientCa, true}, why))
      return fail(sources.where("--tls-cert"), "TLS: " + why);
  }
  if ((o.logMaxSizeBytes > 0) != (o.logMaxFiles > 0))
    return fail(sources.where(o.logMaxSizeBytes > 0 ? "--log-max-size" : "--log-max-files"),
                "--log-max-size and --log-max-files go together (both 0: no rotation)");
  if (o.logMaxSizeBytes > 0 && o.logFile.empty())
    return fail(sources.where("--log-max-size"), "--log-max-size needs --log-file");
  if (o.workers == 0) o.workers = uv_available_parallelism();
  const std::size_t longestHeader = framingMaxHeaderBytes(o.framing);
  if (o.maxFrameBytes > UINT32_MAX - longestHeader)
    o.maxFrameBytes = static_cast<std::uint32_t>(UINT32_MAX - longestHeader);
  std::string framingError = finishFramingOptions(o.framing, o.byteOrder, o.maxFrameBytes);
  if (!framingError.empty()) return fail(sources.where("--framing"), framingError);
  return -1;
}

}  // namespace uvframe
