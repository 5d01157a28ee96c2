// Counting replacements of the global operator new/delete: see alloc_counter.h.
#include "alloc_counter.h"

#include <atomic>
#include <cstdlib>
#include <new>

namespace uvframe::bench {
namespace {

std::atomic<std::uint64_t> gTotal{0};
std::atomic<std::uint64_t> gBackground{0};
thread_local std::uint64_t tThread = 0;
thread_local bool tProducer = false;

void count() {
  gTotal.fetch_add(1, std::memory_order_relaxed);
  ++tThread;
  if (!tProducer) gBackground.fetch_add(1, std::memory_order_relaxed);
}

void* allocate(std::size_t size) {
  count();
  if (size == 0) size = 1;
  return std::malloc(size);
}

void* allocateAligned(std::size_t size, std::align_val_t align) {
  count();
  auto alignment = static_cast<std::size_t>(align);
  if (alignment < sizeof(void*)) alignment = sizeof(void*);
  // aligned_alloc wants the size to be a multiple of the alignment.
  size = (size + alignment - 1) / alignment * alignment;
  if (size == 0) size = alignment;
  return std::aligned_alloc(alignment, size);
}

void* allocateOrThrow(std::size_t size) {
  void* p = allocate(size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void* allocateAlignedOrThrow(std::size_t size, std::align_val_t align) {
  void* p = allocateAligned(size, align);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace

std::uint64_t threadAllocations() {
  return tThread;
}
std::uint64_t totalAllocations() {
  return gTotal.load(std::memory_order_relaxed);
}
std::uint64_t backgroundAllocations() {
  return gBackground.load(std::memory_order_relaxed);
}
void markProducerThread() {
  tProducer = true;
}

}  // namespace uvframe::bench

using uvframe::bench::allocate;
using uvframe::bench::allocateAligned;
using uvframe::bench::allocateAlignedOrThrow;
using uvframe::bench::allocateOrThrow;

void* operator new(std::size_t size) {
  return allocateOrThrow(size);
}
void* operator new[](std::size_t size) {
  return allocateOrThrow(size);
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return allocate(size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return allocate(size);
}
void* operator new(std::size_t size, std::align_val_t align) {
  return allocateAlignedOrThrow(size, align);
}
void* operator new[](std::size_t size, std::align_val_t align) {
  return allocateAlignedOrThrow(size, align);
}
void* operator new(std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  return allocateAligned(size, align);
}
void* operator new[](std::size_t size, std::align_val_t align, const std::nothrow_t&) noexcept {
  return allocateAligned(size, align);
}

void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  std::free(p);
}
