// libFuzzer target: FrameReassembler driven the way Connection drives it
// (prepareRead / commit / next until false / wholeFrames / endRead, in reads
// of fuzzer-chosen sizes, with the server's parking and giving back between
// reads), checked against a reference model that parses the whole stream at
// once. Frames larger than a chunk must come out skimmed (their first
// maxLoggedBytes, their full size) when the reassembler skims, whole
// otherwise; the too-large stop point, the partial-frame state, the echo
// bytes and the memory held must all match. With a budget, other peers (a
// "hog" of chunks, a growth-token block and queued echo bytes) take memory;
// a refused read waits in the pool's line, the others release, the pool must
// wake it exactly when its retry fits (the growth token promised to it by
// owner id), and the retry may neither lose nor duplicate a byte. Alone in
// the pool the peer must always be served. Any difference traps.
//
// Input layout:
//   byte 0      bit 0: byte order (1 = big); bit 1: keepWholeFrames (--echo);
//               bit 2: a budget; bit 3: max payload times 16; bits 4-7,
//               byte 1 and bit 7 of byte 5: chunk size (256..8192)
//   byte 2      maxLoggedBytes / 2
//   bytes 3-4   max payload (little-endian)
//   byte 5      bits 0-2: budget chunks above the smallest a worker gets
//   bytes 6-13  eight read sizes, used in turn
//   bytes 14-21 eight actions between reads, used in turn (see act())
//   rest        records that build the stream (see buildStream())
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

#include "buffer_pool.h"
#include "frame_codec.h"
#include "frame_reassembler.h"
#include "ring_buffer.h"

namespace {

using uvframe::BufferBlock;
using uvframe::BufferPool;
using uvframe::ByteOrder;
using uvframe::FrameReassembler;
using uvframe::kFrameHeaderBytes;

constexpr std::size_t kParamBytes = 22;
constexpr std::size_t kMaxStreamBytes = std::size_t{256} << 10;
constexpr std::size_t kMaxGeneratedBytes = 4 * 0xFFFF;
constexpr std::uint64_t kPeerId = 1;

// The pool never lends more than its budget, also after a token holder gives
// its grown block back (MemoryRule.GivingBackATokenBlockKeepsTheBudget).
constexpr std::size_t kKnownOvershootBytes = 0;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

struct Params {
  ByteOrder order;
  bool keepWhole;
  std::size_t chunkBytes;
  std::size_t maxLoggedBytes;
  std::uint32_t maxPayloadBytes;
  std::size_t budgetBytes;  // 0: none
  std::size_t reserveBytes;
  std::size_t readSizes[8];
  std::uint8_t actions[8];
};

// The growth reserve exactly as the server sizes it (growthReserveBytes).
std::size_t reserveFor(const Params& p, bool skims) {
  std::size_t frame = std::size_t{p.maxPayloadBytes} + kFrameHeaderBytes;
  if (skims || frame <= p.chunkBytes) return 0;
  return (frame + p.chunkBytes - 1) / p.chunkBytes * p.chunkBytes;
}

Params parseParams(const std::uint8_t* d) {
  Params p{};
  p.order = (d[0] & 1) != 0 ? ByteOrder::kBig : ByteOrder::kLittle;
  p.keepWhole = (d[0] & 2) != 0;
  const bool budget = (d[0] & 4) != 0;
  std::size_t chunkBits = (std::size_t{d[5]} >> 7) << 12 | (std::size_t{d[0]} >> 4) << 8 | d[1];
  p.chunkBytes = 256 + chunkBits % (8192 - 256 + 1);
  p.maxLoggedBytes = std::size_t{d[2]} * 2;
  p.maxPayloadBytes = static_cast<std::uint32_t>(d[3] | d[4] << 8);
  if ((d[0] & 8) != 0) p.maxPayloadBytes *= 16;
  const bool skims = !p.keepWhole && kFrameHeaderBytes + p.maxLoggedBytes <= p.chunkBytes / 2;
  if (budget) {
    p.reserveBytes = reserveFor(p, skims);
    p.budgetBytes = p.reserveBytes + (2 + d[5] % 8) * p.chunkBytes;
  }
  for (std::size_t i = 0; i < 8; ++i) {
    std::uint8_t b = d[6 + i];
    p.readSizes[i] = (b & 0x80) != 0 ? (std::size_t{b & 0x7Fu} + 1) * 64 : std::size_t{b} + 1;
    p.actions[i] = d[14 + i];
  }
  return p;
}

void appendHeader(std::vector<std::byte>& out, std::uint32_t payloadBytes, ByteOrder order) {
  auto h = uvframe::encodeHeader(payloadBytes, order);
  out.insert(out.end(), h.begin(), h.end());
}

// The stream from records, each led by a tag byte t:
//   t % 4 == 0  (t >> 2) + 1 raw bytes from the input (garbage, split or
//               too-large headers)
//   t % 4 == 1  a frame whose (t >> 2) payload bytes come from the input
//   t % 4 == 2  a frame of (next two bytes) * ((t >> 2) % 4 + 1) generated
//               payload bytes: frames up to 256 KiB from three input bytes
//   t % 4 == 3  (t >> 2) + 1 zero-length frames
// Generated payload bytes: a fixed pattern, made once (no per-byte work per
// input), read from an offset chosen by the record's tag.
const std::vector<std::byte>& generatedBytes() {
  static const std::vector<std::byte> bytes = [] {
    std::vector<std::byte> b(kMaxGeneratedBytes + 256);
    for (std::size_t k = 0; k < b.size(); ++k)
      b[k] = static_cast<std::byte>((k * 29 + (k >> 9)) & 0xFF);
    return b;
  }();
  return bytes;
}

// Builds the stream into s (reused between inputs: its capacity stays).
void buildStream(const std::uint8_t* d, std::size_t n, ByteOrder order, std::vector<std::byte>& s) {
  s.clear();
  std::size_t i = 0;
  auto take = [&](std::size_t count) {
    count = std::min(count, n - i);
    s.insert(s.end(), reinterpret_cast<const std::byte*>(d + i),
             reinterpret_cast<const std::byte*>(d + i + count));
    i += count;
  };
  while (i < n && s.size() < kMaxStreamBytes) {
    std::uint8_t t = d[i++];
    std::size_t arg = t >> 2;
    switch (t & 3) {
      case 0:
        take(arg + 1);
        break;
      case 1: {
        appendHeader(s, static_cast<std::uint32_t>(arg), order);
        std::size_t got = std::min(arg, n - i);
        take(arg);
        s.resize(s.size() + arg - got, std::byte{'~'});  // the input ran out: pad
        break;
      }
      case 2: {
        std::size_t len = i + 1 < n ? (d[i] | std::size_t{d[i + 1]} << 8) : 0;
        i = std::min(i + 2, n);
        len *= arg % 4 + 1;
        appendHeader(s, static_cast<std::uint32_t>(len), order);
        const std::byte* from = generatedBytes().data() + t;
        s.insert(s.end(), from, from + len);
        break;
      }
      default:
        for (std::size_t k = 0; k <= arg; ++k)
          appendHeader(s, 0, order);
        break;
    }
  }
}

// The reference: every complete frame (payload offset and size) and where a
// too-large length stops the stream.
struct Model {
  struct Frame {
    std::size_t offset;
    std::uint32_t size;
  };
  std::vector<Frame> frames;
  std::optional<std::size_t> tooLargeAt;
  std::uint32_t announced = 0;
  std::size_t consumed = 0;  // end of the last complete frame
};

Model parseWhole(std::span<const std::byte> s, const Params& p) {
  Model m;
  std::size_t pos = 0;
  while (s.size() - pos >= kFrameHeaderBytes) {
    std::uint32_t len = uvframe::decodeLength(s.data() + pos, p.order);
    if (len > p.maxPayloadBytes) {
      m.tooLargeAt = pos;
      m.announced = len;
      break;
    }
    if (s.size() - pos - kFrameHeaderBytes < len) break;
    m.frames.push_back({pos + kFrameHeaderBytes, len});
    pos += kFrameHeaderBytes + len;
  }
  m.consumed = pos;
  return m;
}

bool same(std::span<const std::byte> a, const std::byte* b) {
  return a.empty() || std::memcmp(a.data(), b, a.size()) == 0;
}

/// One peer's receive path plus the rest of the worker as far as memory goes.
class Run {
 public:
  Run(std::span<const std::byte> stream, const Params& p)
      : s_(stream),
        p_(p),
        model_(parseWhole(stream, p)),
        pool_(p.chunkBytes, p.budgetBytes, 4),
        fr_(pool_, uvframe::FramingDecoder::lengthPrefix(p.order, p.maxPayloadBytes),
            p.maxLoggedBytes, p.keepWhole) {
    pool_.setGrowthReserve(p.reserveBytes);
    fr_.ring().setOwnerId(kPeerId);  // as Connection does: the pool knows it by id
    skims_ = fr_.skims();
  }
  ~Run() {
    for (BufferBlock& b : hog_)
      pool_.release(b);
  }

  void go() {
    bool tooLarge = false;
    for (std::size_t reads = 0; fed_ < s_.size() && !tooLarge; ++reads) {
      std::span<std::byte> room = roomForRead();
      check(!room.empty() && room.size() <= p_.chunkBytes);
      std::size_t n = std::min({room.size(), p_.readSizes[reads % 8], s_.size() - fed_});
      std::memcpy(room.data(), s_.data() + fed_, n);
      fed_ += n;
      tooLarge = handleRead(n, n >= room.size() && fed_ < s_.size());
      if (!tooLarge) act(p_.actions[reads % 8]);
      check(p_.budgetBytes == 0 || pool_.bytesLent() <= p_.budgetBytes + kKnownOvershootBytes);
    }
    check(next_ == model_.frames.size());
    check(tooLarge == model_.tooLargeAt.has_value());
    if (!tooLarge) check(fr_.unfinishedBytes() == s_.size() - model_.consumed);
    while (!hog_.empty())
      releaseOne();
    if (!tooLarge && model_.consumed == s_.size()) check(pool_.bytesLent() == 0);
  }

 private:
  // prepareRead(); when the rule refuses, wait in line while the others
  // release, and retry only once woken: the wake-up must come exactly when
  // the retry fits.
  std::span<std::byte> roomForRead() {
    std::span<std::byte> room = fr_.prepareRead();
    if (!room.empty()) return room;
    check(p_.budgetBytes != 0);
    pool_.wait(kPeerId, pool_.lastRefusedBytes());
    while (true) {
      if (!hog_.empty()) {
        releaseOne();
      } else if (echoBytes_ > 0) {
        pool_.releaseEcho(echoBytes_);
        echoBytes_ = 0;
      } else {
        check(false);  // alone in the pool: a frame block and two chunks must serve it
      }
      std::vector<std::uint64_t> woken = pool_.takeWakeable([](std::uint64_t) { return true; });
      room = fr_.prepareRead();
      if (!woken.empty()) {
        check(woken.size() == 1 && woken[0] == kPeerId && !room.empty());
        return room;
      }
      check(room.empty());  // not woken although the read fits: a lost wake-up
    }
  }

  // Connection::handleBytes: every frame against the model, then endRead().
  bool handleRead(std::size_t n, bool socketHasMore) {
    const std::size_t unfinishedBefore = fed_ - n - consumed_;
    fr_.commit(n);
    FrameReassembler::Frame f;
    const std::size_t firstFrame = next_;
    bool skimmedInRead = false;
    while (fr_.next(f)) {
      check(next_ < model_.frames.size());
      const Model::Frame& m = model_.frames[next_++];
      check(m.offset == consumed_ + kFrameHeaderBytes && f.payloadBytes == m.size);
      const bool skimmed = skims_ && kFrameHeaderBytes + m.size > p_.chunkBytes;
      skimmedInRead = skimmedInRead || skimmed;
      std::size_t shown = skimmed ? std::min<std::size_t>(m.size, p_.maxLoggedBytes) : m.size;
      check(f.payload.size() == shown && same(f.payload, s_.data() + m.offset));
      consumed_ = m.offset + m.size;
    }
    const std::size_t framesInRead = next_ - firstFrame;
    if (framesInRead > 0 && !skimmedInRead) {
      // The exact wire bytes of this read's frames (what --echo sends).
      std::span<const std::byte> wire = fr_.wholeFrames();
      std::size_t start = model_.frames[firstFrame].offset - kFrameHeaderBytes;
      check(wire.size() == consumed_ - start && same(wire, s_.data() + start));
      if (p_.keepWhole) {
        pool_.chargeEcho(wire.size());
        echoBytes_ += wire.size();
      }
    }
    check(!(p_.keepWhole && skimmedInRead));
    FrameReassembler::ReadEnd end = fr_.endRead();
    if (end.tooLarge) {
      check(model_.tooLargeAt && *model_.tooLargeAt == consumed_);
      check(end.announced == model_.announced && next_ == model_.frames.size());
      check(fed_ - consumed_ >= kFrameHeaderBytes);
      check(fr_.unread().size() == fed_ - consumed_ && same(fr_.unread(), s_.data() + consumed_));
      return true;
    }
    checkPartialState(end, unfinishedBefore, framesInRead);
    giveBack(socketHasMore);
    return false;
  }

  void checkPartialState(const FrameReassembler::ReadEnd& end, std::size_t unfinishedBefore,
                         std::size_t framesInRead) {
    const std::size_t unfinished = fed_ - consumed_;
    check(fr_.unfinishedBytes() == unfinished && fr_.hasPartial() == (unfinished > 0));
    std::size_t frameBytes = 0;
    if (unfinished >= kFrameHeaderBytes) {
      frameBytes = kFrameHeaderBytes + uvframe::decodeLength(s_.data() + consumed_, p_.order);
      check(frameBytes > unfinished);
    }
    check(fr_.unfinishedFrameBytes() == frameBytes);
    check(end.newFrameBegan == (unfinished > 0 && (unfinishedBefore == 0 || framesInRead > 0)));
    check(end.released == (unfinished == 0) && fr_.ring().hasStorage() == (unfinished > 0));
    // What the ring holds: the unfinished frame, or while skimming its
    // header and head only.
    std::span<const std::byte> held = fr_.ring().readable();
    const bool skimming = skims_ && frameBytes > p_.chunkBytes;
    std::size_t want =
        skimming ? kFrameHeaderBytes + std::min(unfinished - kFrameHeaderBytes, p_.maxLoggedBytes)
                 : unfinished;
    // A kept frame is compared at its ends only (its whole payload is
    // checked when it comes out), so a large frame costs no quadratic time.
    check(held.size() == want);
    if (held.size() <= 2 * p_.chunkBytes) {
      check(same(held, s_.data() + consumed_));
    } else {
      check(same(held.first(64), s_.data() + consumed_));
      check(same(held.last(p_.chunkBytes), s_.data() + fed_ - p_.chunkBytes));
    }
    if (skims_)
      check(fr_.ring().capacity() <= std::max(p_.chunkBytes, BufferPool::kSmallBlockBytes));
    check(pool_.bytesLent() == fr_.ring().capacity() + hogBytes_);
  }

  // What the server does after a read: give back while others wait (rule
  // 4), or park the tail when the socket is drained.
  void giveBack(bool socketHasMore) {
    uvframe::RingBuffer& ring = fr_.ring();
    if (pool_.hasWaiters()) {
      ring.giveBackSurplus();
    } else if (!socketHasMore && ring.readableBytes() <= BufferPool::kSmallBlockBytes) {
      ring.shrinkToFit(BufferPool::kSmallBlockBytes);
    }
  }

  // One action between reads; each bit is something the rest of the worker
  // or a timer may do.
  void act(std::uint8_t a) {
    const std::size_t unfinished = fr_.unfinishedBytes();
    if ((a & 1) != 0) grab(1);  // another peer reads
    // Another peer grows (a few times per run: a block that large is a heap
    // allocation, slow under ASan).
    if ((a & 2) != 0 && p_.reserveBytes > 0 && growerGrabs_ < 8) {
      ++growerGrabs_;
      grab(p_.reserveBytes);
    }
    if ((a & 4) != 0 && !hog_.empty()) releaseOne();  // another gives back
    if ((a & 8) != 0 && fr_.hasPartial()) {
      fr_.ring().shrinkToFit(p_.chunkBytes / 4);  // the park timer
    }
    if ((a & 16) != 0) fr_.ring().giveBackSurplus();  // others wait
    if ((a & 32) != 0 && echoBytes_ > 0) {            // echoes written
      pool_.releaseEcho(echoBytes_);
      echoBytes_ = 0;
    }
    if ((a & 64) != 0) pool_.expireTokenPromise();  // a tick
    check(fr_.unfinishedBytes() == unfinished);
    check(fr_.ring().readableBytes() == 0 || fr_.ring().hasStorage());
    check(pool_.bytesLent() == fr_.ring().capacity() + hogBytes_);
  }

  void grab(std::size_t bytes) {
    if (p_.budgetBytes == 0) return;  // without a budget nobody is refused
    BufferBlock b = pool_.acquire(bytes);
    if (!b) return;
    hog_.push_back(b);
    hogBytes_ += b.capacity;
  }
  void releaseOne() {
    hogBytes_ -= hog_.back().capacity;
    pool_.release(hog_.back());
    hog_.pop_back();
  }

  std::span<const std::byte> s_;
  const Params& p_;
  const Model model_;
  BufferPool pool_;
  std::vector<BufferBlock> hog_;  // declared after pool_: released before it
  std::size_t hogBytes_ = 0;
  std::size_t echoBytes_ = 0;
  std::size_t growerGrabs_ = 0;
  FrameReassembler fr_;
  bool skims_ = false;
  std::size_t fed_ = 0;
  std::size_t consumed_ = 0;
  std::size_t next_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < kParamBytes) return 0;
  const Params p = parseParams(data);
  static std::vector<std::byte> stream;
  buildStream(data + kParamBytes, size - kParamBytes, p.order, stream);
  Run run(stream, p);
  run.go();
  return 0;
}
