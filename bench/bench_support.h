// bench_support: small helpers shared by the microbenchmarks (bench_codec,
// bench_render, bench_log_line), so that each of them builds its payloads and
// counts its heap allocations the same way:
//   loadgenText()   "conn=<id> seq=<n> " + a..z filler, the loadgen's payloads
//   toBytes()       a string's bytes as the std::byte vector the codecs take
//   countedLoop()   runs a benchmark's timed loop and counts the heap
//                   allocations made inside it (alloc_counter.h)
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "alloc_counter.h"

namespace uvframe::bench {

/// head followed by printable filler ('a' + position % 26), cut to exactly
/// bytes: what uvframe-loadgen sends.
inline std::string loadgenText(std::string head, std::size_t bytes) {
  while (head.size() < bytes)
    head.push_back(static_cast<char>('a' + head.size() % 26));
  head.resize(bytes);
  return head;
}

inline std::vector<std::byte> toBytes(std::string_view s) {
  std::vector<std::byte> b(s.size());
  if (!s.empty()) std::memcpy(b.data(), s.data(), s.size());
  return b;
}

/// Heap allocations made inside one timed loop.
struct LoopAllocations {
  std::uint64_t thread = 0;      ///< by the calling (benchmark) thread
  std::uint64_t background = 0;  ///< by background threads (see alloc_counter.h)
};

/// Runs body() once per iteration of state's timed loop. The counts start in
/// the first iteration, because the benchmark library allocates as the loop
/// starts (and, with threads, after the start barrier, so other threads'
/// setup is not counted); they end before the caller sets any counter,
/// because the counter map allocates.
template <class Body>
LoopAllocations countedLoop(benchmark::State& state, Body&& body) {
  LoopAllocations start;
  bool first = true;
  for (auto _ : state) {
    if (first) {
      start = {threadAllocations(), backgroundAllocations()};
      first = false;
    }
    body();
  }
  return {threadAllocations() - start.thread, backgroundAllocations() - start.background};
}

}  // namespace uvframe::bench
