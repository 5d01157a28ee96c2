// Framing options on the command line: see framing_cli.h.
#include "framing_cli.h"

#include <CLI/CLI.hpp>

namespace uvframe {

void addFramingOptions(CLI::App& app, FramingOptions& framing) {
  app.add_option_function<std::string>(
         "--framing",
         [&framing](const std::string& text) {
           auto kind = parseFramingKind(text);
           if (!kind)
             throw CLI::ValidationError("--framing", "must be length, octet-counting or varint");
           framing.kind = *kind;
         },
         "how frames are delimited: length (a binary length field, default: 4 bytes, "
         "little endian), octet-counting (RFC 6587 \"<decimal length> <payload>\", what "
         "rsyslog and syslog-ng forward) or varint (protobuf base-128 length)")
      ->check(CLI::IsMember({"length", "octet-counting", "octet", "varint"}))
      ->default_str("length");
  // Through an unsigned: CLI11 would read a uint8_t as a character.
  app.add_option_function<unsigned>(
         "--length-bytes",
         [&framing](unsigned n) { framing.lengthBytes = static_cast<std::uint8_t>(n); },
         "size of the length field with --framing length: 1, 2, 3, 4 or 8")
      ->check(CLI::IsMember({1u, 2u, 3u, 4u, 8u}))
      ->default_str("4");
  app.add_option("--length-offset", framing.lengthOffset,
                 "bytes before the length field (--framing length), e.g. a magic; part of the "
                 "header, never checked, sent as zeros")
      ->check(CLI::Range(std::uint32_t{0}, static_cast<std::uint32_t>(kMaxLengthOffsetBytes)))
      ->capture_default_str();
  app.add_option("--length-adjust", framing.lengthAdjust,
                 "added to the length field to get the payload bytes that follow it "
                 "(--framing length); -4 when the length counts itself")
      ->check(CLI::Range(-kMaxLengthAdjust, kMaxLengthAdjust))
      ->capture_default_str();
}

std::string finishFramingOptions(FramingOptions& framing, ByteOrder byteOrder,
                                 std::uint32_t maxPayloadBytes) {
  framing.byteOrder = byteOrder;
  framing.maxPayloadBytes = maxPayloadBytes;
  return validateFramingOptions(framing);
}

}  // namespace uvframe
