// The framing options on the command line (SPEC "Framing options"), shared by
// the server, the client and the load generator so the three spell, explain
// and check them alike. --byte-order and --max-frame stay where they were
// (each program already had them); finishFramingOptions() folds them in.
#pragma once

#include "cli_fwd.h"

#include <cstdint>
#include <string>

#include "framing.h"

namespace uvframe {

/// Adds --framing, --length-bytes, --length-offset and --length-adjust,
/// bound to framing's fields (kind, lengthBytes, lengthOffset, lengthAdjust).
void addFramingOptions(CLI::App& app, FramingOptions& framing);

/// Copies the byte order and the payload limit into framing and checks the
/// whole: empty when usable, else one sentence naming the option at fault.
std::string finishFramingOptions(FramingOptions& framing, ByteOrder byteOrder,
                                 std::uint32_t maxPayloadBytes);

}  // namespace uvframe
