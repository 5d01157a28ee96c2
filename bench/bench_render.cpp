// bench_render: PayloadRenderer::render, the per-message text work of the log
// path, for the payloads a server meets:
//   Ascii     printable ASCII, as the loadgen sends (the common case)
//   Korean    UTF-8 Hangul (3 bytes a character), valid, written as is
//   Binary    random bytes: control characters and invalid UTF-8 to escape
//   Cp949     Hangul in CP949, decoded with iconv (--payload-encoding cp949)
// at 64 and 1024 bytes. BM_RenderAuto_* render the same payloads with
// --payload-encoding auto (UTF-8 checked while escaped; CP949 Hangul found
// by a table scan, then decoded; binary escaped as UTF-8). BM_Escape_* time
// appendEscapedUtf8 alone (the UTF-8 path of render(), with its SSE2 scan for
// safe bytes on x86-64) on the payloads that need no charset decoding.
// Reports ns per payload (the time column), payload bytes/s, output bytes
// per payload byte and allocs_per_payload (target 0: the output string is
// reused like the server's line buffer).
#include <benchmark/benchmark.h>
#include <iconv.h>

#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_support.h"
#include "payload_renderer.h"

namespace {

using uvframe::PayloadRenderer;
using uvframe::bench::toBytes;

// Repeats unit (whole characters only) and pads with ASCII to exactly size.
std::string fill(const std::string& unit, std::size_t unitChars, std::size_t size) {
  std::string out;
  std::size_t charBytes = unit.size() / unitChars;
  while (out.size() + charBytes <= size) {
    std::size_t at = (out.size() / charBytes) % unitChars;
    out.append(unit, at * charBytes, charBytes);
  }
  out.append(size - out.size(), '.');
  return out;
}

std::string utf8ToCp949(const std::string& utf8) {
  iconv_t cd = iconv_open("CP949", "UTF-8");
  if (cd == reinterpret_cast<iconv_t>(-1)) throw std::runtime_error("iconv: no CP949");
  std::string out(utf8.size() * 2, '\0');
  char* in = const_cast<char*>(utf8.data());
  std::size_t inLeft = utf8.size();
  char* o = out.data();
  std::size_t outLeft = out.size();
  iconv(cd, &in, &inLeft, &o, &outLeft);
  iconv_close(cd);
  out.resize(out.size() - outLeft);
  return out;
}

enum class Kind { kAscii, kKorean, kBinary, kCp949 };

std::vector<std::byte> makePayload(Kind kind, std::size_t size) {
  // "안녕하세요" (hello) and "반갑습니다" (nice to meet you): 10 syllables.
  const std::string hangul = "안녕하세요반갑습니다";
  switch (kind) {
    case Kind::kAscii:
      return toBytes(uvframe::bench::loadgenText("conn=42 seq=1234567 ", size));
    case Kind::kKorean:
      return toBytes(fill(hangul, 10, size));
    case Kind::kBinary: {
      std::mt19937 rng(12345);
      std::vector<std::byte> b(size);
      for (auto& x : b)
        x = static_cast<std::byte>(rng() & 0xFF);
      return b;
    }
    case Kind::kCp949: {
      // CP949 Hangul is 2 bytes a character.
      std::string cp = utf8ToCp949(hangul);
      return toBytes(fill(cp, 10, size));
    }
  }
  return {};
}

/// Times render(payload, out) on a reused out string, with the counters above.
template <class Render>
void timeRendering(benchmark::State& state, const std::vector<std::byte>& payload,
                   Render&& render) {
  std::string out;
  out.reserve(8 * payload.size() + 64);
  render(payload, out);  // warm-up: scratch buffers grow here
  std::size_t outBytes = 0;
  const auto allocs = uvframe::bench::countedLoop(state, [&] {
    out.clear();
    render(payload, out);
    benchmark::DoNotOptimize(out.data());
    outBytes = out.size();
  });
  const auto n = static_cast<double>(state.iterations());
  const auto size = static_cast<double>(payload.size());
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(payload.size()));
  state.counters["out_per_in_byte"] = static_cast<double>(outBytes) / size;
  state.counters["allocs_per_payload"] = static_cast<double>(allocs.thread) / n;
}

void runRender(benchmark::State& state, Kind kind, const char* encoding) {
  PayloadRenderer renderer(encoding);
  timeRendering(state, makePayload(kind, static_cast<std::size_t>(state.range(0))),
                [&](std::span<const std::byte> p, std::string& out) { renderer.render(p, out); });
}

void runEscape(benchmark::State& state, Kind kind) {
  timeRendering(state, makePayload(kind, static_cast<std::size_t>(state.range(0))),
                uvframe::appendEscapedUtf8);
}

void BM_Render_Ascii(benchmark::State& s) {
  runRender(s, Kind::kAscii, "utf-8");
}
void BM_Render_KoreanUtf8(benchmark::State& s) {
  runRender(s, Kind::kKorean, "utf-8");
}
void BM_Render_BinaryEscaped(benchmark::State& s) {
  runRender(s, Kind::kBinary, "utf-8");
}
void BM_Render_KoreanCp949(benchmark::State& s) {
  runRender(s, Kind::kCp949, "cp949");
}

BENCHMARK(BM_Render_Ascii)->ArgName("size")->Arg(64)->Arg(1024);
BENCHMARK(BM_Render_KoreanUtf8)->ArgName("size")->Arg(64)->Arg(1024);
BENCHMARK(BM_Render_BinaryEscaped)->ArgName("size")->Arg(64)->Arg(1024);
BENCHMARK(BM_Render_KoreanCp949)->ArgName("size")->Arg(64)->Arg(1024);

void BM_RenderAuto_Ascii(benchmark::State& s) {
  runRender(s, Kind::kAscii, "auto");
}
void BM_RenderAuto_KoreanUtf8(benchmark::State& s) {
  runRender(s, Kind::kKorean, "auto");
}
void BM_RenderAuto_BinaryEscaped(benchmark::State& s) {
  runRender(s, Kind::kBinary, "auto");
}
void BM_RenderAuto_KoreanCp949(benchmark::State& s) {
  runRender(s, Kind::kCp949, "auto");
}

BENCHMARK(BM_RenderAuto_Ascii)->ArgName("size")->Arg(64)->Arg(1024);
BENCHMARK(BM_RenderAuto_KoreanUtf8)->ArgName("size")->Arg(64)->Arg(1024);
BENCHMARK(BM_RenderAuto_BinaryEscaped)->ArgName("size")->Arg(64)->Arg(1024);
BENCHMARK(BM_RenderAuto_KoreanCp949)->ArgName("size")->Arg(64)->Arg(1024);

void BM_Escape_Ascii(benchmark::State& s) {
  runEscape(s, Kind::kAscii);
}
void BM_Escape_KoreanUtf8(benchmark::State& s) {
  runEscape(s, Kind::kKorean);
}
void BM_Escape_Binary(benchmark::State& s) {
  runEscape(s, Kind::kBinary);
}

BENCHMARK(BM_Escape_Ascii)->ArgName("size")->Arg(64)->Arg(1024);
BENCHMARK(BM_Escape_KoreanUtf8)->ArgName("size")->Arg(64)->Arg(1024);
BENCHMARK(BM_Escape_Binary)->ArgName("size")->Arg(64)->Arg(1024);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
