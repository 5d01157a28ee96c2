// TimingWheel: intrusive list surgery and the slot walk of advance(). The
// header explains the wheel, its precision and what callbacks may do.
#include "timing_wheel.h"

#include <algorithm>
#include <cassert>

namespace uvframe {

TimingWheel::Node::~Node() {
  // The wheel would keep a pointer into a dead object: the owner must
  // cancel() first.
  assert(next_ == nullptr && "TimerNode destroyed while armed");
}

TimingWheel::TimingWheel(std::uint64_t tickMs, std::size_t slotCount, std::uint64_t nowMs)
    : tickMs_(tickMs),
      slotCount_(slotCount),
      lastTick_(nowMs / tickMs),
      slots_(std::make_unique<Node[]>(slotCount)) {
  assert(tickMs > 0 && slotCount > 0);
  for (std::size_t i = 0; i < slotCount_; ++i)
    makeEmptyList(slots_[i]);
  makeEmptyList(overdue_);
}

TimingWheel::~TimingWheel() {
  for (std::size_t i = 0; i < slotCount_; ++i)
    disarmAll(slots_[i]);
  disarmAll(overdue_);
  size_ = 0;
}

void TimingWheel::schedule(Node& node, std::uint64_t deadlineMs) {
  if (armed(node)) {
    unlink(node);
  } else {
    ++size_;
  }
  // Rounded up, so that the node never fires before its deadline.
  std::uint64_t dueTick = deadlineMs / tickMs_ + (deadlineMs % tickMs_ != 0 ? 1 : 0);
  node.dueTick_ = dueTick;
  node.deadlineMs_ = deadlineMs;
  // A tick already walked will not be walked again: such a node fires in the
  // next advance() instead.
  linkBefore(dueTick <= lastTick_ ? overdue_ : slotFor(dueTick), node);
}

void TimingWheel::cancel(Node& node) {
  if (!armed(node)) return;
  unlink(node);
  --size_;
}

void TimingWheel::collectDue(std::uint64_t nowMs, Node& ready) {
  makeEmptyList(ready);
  splice(ready, overdue_);
  std::uint64_t nowTick = nowMs / tickMs_;
  if (nowTick <= lastTick_) return;
  // After a stall of a revolution or more every slot is walked once: each
  // holds the nodes of all the revolutions missed, and dueTick tells which
  // of them have come.
  std::uint64_t ticks = std::min<std::uint64_t>(nowTick - lastTick_, slotCount_);
  std::uint64_t firstTick = lastTick_ + 1;
  // From here on a node re-armed for any tick up to nowTick (by a callback of
  // this advance) goes to overdue_, so nothing fires twice in one advance.
  lastTick_ = nowTick;
  for (std::uint64_t i = 0; i < ticks; ++i) {
    Node& head = slotFor(firstTick + i);
    for (Node* node = head.next_; node != &head;) {
      Node* next = node->next_;
      if (node->dueTick_ <= nowTick) {
        unlink(*node);
        linkBefore(ready, *node);
      }
      node = next;
    }
  }
}

TimingWheel::Node* TimingWheel::popReady(Node& ready) {
  Node* node = ready.next_;
  if (node == &ready) {
    ready.prev_ = ready.next_ = nullptr;
    return nullptr;
  }
  unlink(*node);
  --size_;
  return node;
}

void TimingWheel::requeue(Node& ready) {
  splice(overdue_, ready);
  ready.prev_ = ready.next_ = nullptr;
}

void TimingWheel::makeEmptyList(Node& head) {
  head.prev_ = head.next_ = &head;
}

void TimingWheel::linkBefore(Node& head, Node& node) {
  node.prev_ = head.prev_;
  node.next_ = &head;
  head.prev_->next_ = &node;
  head.prev_ = &node;
}

void TimingWheel::unlink(Node& node) {
  node.prev_->next_ = node.next_;
  node.next_->prev_ = node.prev_;
  node.prev_ = node.next_ = nullptr;
}

void TimingWheel::splice(Node& dst, Node& src) {
  if (src.next_ == &src) return;
  Node* first = src.next_;
  Node* last = src.prev_;
  first->prev_ = dst.prev_;
  dst.prev_->next_ = first;
  last->next_ = &dst;
  dst.prev_ = last;
  makeEmptyList(src);
}

void TimingWheel::disarmAll(Node& head) {
  for (Node* node = head.next_; node != &head;) {
    Node* next = node->next_;
    node->prev_ = node->next_ = nullptr;
    node = next;
  }
  head.prev_ = head.next_ = nullptr;
}

}  // namespace uvframe
