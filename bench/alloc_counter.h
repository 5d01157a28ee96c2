// Heap-allocation counter for the benchmark binaries.
//
// alloc_counter.cpp replaces the global operator new/delete (every form) with
// versions that count calls and then use malloc/free, so a benchmark can read
// how many allocations its timed loop made and report allocs per frame (or
// per line). Counting is a relaxed atomic add plus a thread-local add, cheap
// enough to leave on in every benchmark.
#pragma once

#include <cstdint>

namespace uvframe::bench {

/// Allocations made by the calling thread since it started.
std::uint64_t threadAllocations();
/// Allocations made by every thread since the program started.
std::uint64_t totalAllocations();
/// Allocations made by threads that never called markProducerThread()
/// (background threads: the LogWriter thread, spdlog's async pool).
std::uint64_t backgroundAllocations();
/// Marks the calling thread as a benchmark (producer) thread, so that its
/// allocations are not counted as background ones.
void markProducerThread();

}  // namespace uvframe::bench
