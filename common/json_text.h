// JSON text helpers for --log-format json: string escaping, payloads taken
// from the text renderer's output, and "key=value, …" lists as JSON members.
// Socket-free and spdlog-free, so unit tests check them with a real parser.
//
// Payloads. The text renderer (payload_renderer.h) already decodes the
// charset, cuts at --max-logged-bytes and escapes everything unsafe, and its
// escapes are unambiguous: \\ \n \r \t, \xNN, \uXXXX. A JSON payload is
// made from that text in one pass:
//   - valid text (no \xNN of a byte >= 0x80 in it): every text escape is
//     turned into the JSON escape of the same character (\xNN of a control
//     becomes \u00NN; \\ \n \r \t and \uXXXX are JSON already) and '"'
//     becomes \". A JSON parser so gets back exactly the text that was sent
//     (decoded from --payload-encoding), including the bidi and invisible
//     code points the text renderer escapes: they stay \uXXXX escapes in the
//     file (a viewer of the raw line shows no reordering) and parse back to
//     the same code points.
//   - text with an invalid byte (\xNN, NN >= 0x80): the payload is the text
//     rendering itself, JSON-escaped (its backslashes doubled again by JSON),
//     and the caller adds "escaped":true. A parser gets the text-mode line.
//   - a cut payload: the text rendering ends with " …(+K bytes)"; that note
//     is taken off and reported as a number ("cut_bytes":K).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace uvframe {

/// Appends s as the inside of a JSON string: '"' and '\' escaped, control
/// characters (U+0000..U+001F, DEL) as \n \r \t \b \f or \u00XX; bytes that
/// are not valid UTF-8 as the six characters \\xNN (so the output is always
/// valid UTF-8 and valid JSON).
void appendJsonEscaped(std::string_view s, std::string& out);

/// Appends the JSON string inside for rendered, the text renderer's output
/// for one payload (without a cut note). Returns true when the payload was
/// not valid text and the text rendering was written instead ("escaped").
bool appendJsonPayload(std::string_view rendered, std::string& out);

/// True when s is printable ASCII without '"' and '\' only: the same text
/// raw, in the text renderer's output and inside a JSON string.
bool isPlainAsciiForJson(std::string_view s);

/// Splits the text renderer's " …(+K bytes)" note off rendered: returns K
/// and shortens rendered, or returns 0 when rendered does not end with one.
std::size_t takeCutNote(std::string_view& rendered);

/// Appends "key=value, key=value" (the stats and listening details) as JSON
/// members "key":value,… with no leading or trailing comma: integers and
/// decimals as numbers, true/false as booleans, a number with a unit 's'
/// as key_s (a number), anything else as a string.
void appendKeyValuesAsJson(std::string_view list, std::string& out);

/// Appends a JSON member name and a string value: "name":"value".
void appendJsonMember(std::string_view name, std::string_view value, std::string& out);

}  // namespace uvframe
