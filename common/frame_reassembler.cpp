// FrameReassembler: see frame_reassembler.h.
#include "frame_reassembler.h"

#include <algorithm>
#include <cstring>

namespace uvframe {

FrameReassembler::FrameReassembler(BufferPool& pool, FramingDecoder decoder,
                                   std::size_t maxLoggedBytes, bool keepWholeFrames)
    : ring_(pool),
      chunkBytes_(pool.chunkBytes()),
      decoder_(decoder),
      maxHeaderBytes_(framingMaxHeaderBytes(decoder.options())),
      maxLoggedBytes_(maxLoggedBytes),
      keepWholeFrames_(keepWholeFrames) {}

void FrameReassembler::commit(std::size_t n) {
  ring_.commit(n);
  offset_ = 0;
  lastStatus_ = FramingResult::Status::kNeedMore;
  lastPayloadBytes_ = 0;
  lastFrameBytes_ = 0;
  if (skimming_) skim(n);
}

FrameReassembler::ReadEnd FrameReassembler::endRead() {
  ReadEnd end;
  const bool framesDone = offset_ > 0;
  ring_.consume(offset_);
  offset_ = 0;
  if (skimming_) return end;  // the skimmed frame is still arriving
  if (lastStatus_ == FramingResult::Status::kTooLarge) {
    end.tooLarge = true;
    end.announced = lastLengthField_;
    return end;
  }
  if (lastStatus_ == FramingResult::Status::kBadHeader) {
    end.badHeader = true;
    end.badHeaderReason = lastReason_;
    return end;
  }
  pendingFrameBytes_ = lastFrameBytes_;
  if (skims() && pendingFrameBytes_ > chunkBytes_) startSkimming();
  if (ring_.empty()) {
    hasPartial_ = false;
    pendingFrameBytes_ = 0;
    if (ring_.hasStorage()) {
      ring_.releaseStorage();
      end.released = true;
    }
  } else if (!hasPartial_ || framesDone) {
    hasPartial_ = true;
    end.newFrameBegan = true;
  }
  return end;
}

// Starts skimming the partial frame that fills the ring: keeps the header
// and at most maxLoggedBytes of payload.
void FrameReassembler::startSkimming() {
  std::size_t have = ring_.readableBytes() - lastHeaderBytes_;
  std::size_t keep = std::min<std::size_t>(have, maxLoggedBytes_);
  ring_.unwrite(have - keep);
  skimming_ = true;
  skimHeaderBytes_ = static_cast<std::uint32_t>(lastHeaderBytes_);
  skimPayloadBytes_ = lastPayloadBytes_;
  skimSeen_ = static_cast<std::uint32_t>(have);
  skimKept_ = static_cast<std::uint32_t>(keep);
  pendingFrameBytes_ = 0;  // no need to make room for the whole frame
}

// newBytes were just appended to the ring while skimming: keep what the log
// line still wants, drop the rest of this frame's payload in place, and once
// the frame is complete let next() yield it, then parse whatever follows.
void FrameReassembler::skim(std::size_t newBytes) {
  std::span<const std::byte> all = ring_.readable();
  auto* fresh = const_cast<std::byte*>(all.data() + all.size() - newBytes);
  std::size_t mine = std::min<std::size_t>(newBytes, skimPayloadBytes_ - skimSeen_);
  std::size_t wanted = std::min<std::size_t>(skimPayloadBytes_, maxLoggedBytes_);
  std::size_t keep = std::min(mine, wanted - skimKept_);
  std::size_t drop = mine - keep;
  if (drop > 0) {
    // Only the bytes after this frame's end move, once per skimmed frame.
    std::memmove(fresh + keep, fresh + keep + drop, newBytes - keep - drop);
    ring_.unwrite(drop);
  }
  skimSeen_ += static_cast<std::uint32_t>(mine);
  skimKept_ += static_cast<std::uint32_t>(keep);
  if (skimSeen_ < skimPayloadBytes_) return;
  skimming_ = false;
  skimDone_ = true;
}

bool FrameReassembler::takeSkimmedFrame(Frame& out) {
  skimDone_ = false;
  out.payload = ring_.readable().subspan(skimHeaderBytes_, skimKept_);
  out.payloadBytes = skimPayloadBytes_;
  offset_ = skimHeaderBytes_ + skimKept_;
  hasPartial_ = false;
  return true;
}

}  // namespace uvframe
