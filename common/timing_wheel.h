// TimingWheel: a hashed timing wheel for one loop's timeouts, so that checking
// them costs what is due, not what is held (STYLE.md; muduo's
// examples/idleconnection keeps the same kind of circular buffer of buckets).
//
// Time is cut into ticks of tickMs. Tick t covers [t * tickMs, (t+1) * tickMs).
// The wheel has slotCount slots; a node due at tick d sits in slot d % slotCount,
// in an intrusive doubly-linked list, and remembers d itself:
//
//              lastTick_ (everything up to here has fired)
//                  |
//                  v   next advance() walks forward from here ->
//   +-----+-----+-----+-----+-----+-----+-----+-----+
//   |  0  |  1  |  2  |  3  |  4  | ... | N-2 | N-1 |   N = slotCount slots,
//   +-----+-----+-----+-----+-----+-----+-----+-----+   one revolution = N ticks
//      |                 |                       |
//     [a]               [b]<->[c]               [d]     a node: prev, next,
//                                                       dueTick, deadlineMs
//   overdue_: [e]  nodes armed for a tick that has already been walked
//
// Precision: deadline D is rounded UP to a tick, d = ceil(D / tickMs), and the
// node fires in the first advance(nowMs) with nowMs / tickMs >= d, that is
// nowMs >= d * tickMs >= D: never early. Driven once a tick, it fires less
// than a tick after d * tickMs: under one tick after D when advance() runs on
// tick boundaries (start the driving timer on one), under two otherwise.
// A node armed for a tick already walked (a past deadline, or one inside the
// current tick when nowMs sits on a boundary) goes to overdue_ and fires in
// the very next advance(), whatever its nowMs.
//
// Deadlines beyond one revolution: the node keeps its absolute dueTick, so a
// slot may hold nodes of later revolutions; advance() fires only the nodes of
// a slot whose dueTick has come and leaves the others (an implicit "remaining
// rounds" count that stays right after a stall). Pick tickMs * slotCount at
// least as long as the usual timeout, so that a slot holds almost only nodes
// that are due when it is walked.
//
// A late advance (after a loop stall) walks every slot between the last
// advance and now, so no slot is skipped; after a stall of a revolution or
// more it walks each slot once (not once per revolution missed) and fires
// every node whose dueTick has come. Each node fires once: overdue ones
// first, then in tick order (after a stall of over a revolution, slot order).
//
// Callbacks: advance() first moves every due node to a private ready list,
// then unlinks and fires them one at a time. onDue(node) gets a node that is
// already unarmed; it may re-arm it (to a later tick: a re-arm for a tick
// already walked fires in the next advance(), never twice in this one),
// cancel or re-arm any OTHER node (even one still waiting in the ready list:
// cancel takes it out and it does not fire), or destroy its owner after
// cancelling it.
//
// Intended use (lazy, as muduo's): a connection keeps one TimerNode armed for
// its earliest deadline, with data = this so that the callback finds it. On a
// read it only stores the time (or calls scheduleNoLaterThan for a deadline
// that may be earlier, e.g. a frame timeout that starts: two compares when
// nothing changes). When its node fires, it recomputes its real deadline from
// its timestamps, closes if that has passed, and re-arms the node otherwise.
//
// Why hand-written: no Debian package offers a timing wheel with intrusive
// nodes that fits a libuv loop (one thread, no allocation per timer, driven
// by our own tick), and a uv_timer_t per connection would make libuv's timer
// heap hold 100,000 entries, with O(log n) work on every re-arm.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace uvframe {

/// Hashed timing wheel of intrusive nodes. Owns nothing but its slot heads;
/// the nodes belong to their owners, which cancel them before they go away.
/// Used by one thread (the loop's); no call allocates.
class TimingWheel {
 public:
  /// The wheel's hook, embedded in the object that has a timeout. Not
  /// copyable or movable: the wheel keeps its address while it is armed.
  /// Its destructor asserts that it is not armed.
  class Node {
   public:
    Node() = default;
    /// owner: what onDue gets back through data (as a libuv handle's data).
    explicit Node(void* owner) : data(owner) {}
    ~Node();
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;

    void* data = nullptr;  ///< the owner's, never read by the wheel

   private:
    friend class TimingWheel;
    Node* prev_ = nullptr;
    Node* next_ = nullptr;  ///< nullptr when not armed
    std::uint64_t dueTick_ = 0;
    std::uint64_t deadlineMs_ = 0;
  };

  /// tickMs > 0, slotCount > 0. Time starts at nowMs: ticks up to
  /// nowMs / tickMs count as walked.
  TimingWheel(std::uint64_t tickMs, std::size_t slotCount, std::uint64_t nowMs = 0);
  /// Disarms whatever is still armed (its owners must not use it again).
  ~TimingWheel();
  TimingWheel(const TimingWheel&) = delete;
  TimingWheel& operator=(const TimingWheel&) = delete;

  /// Arms node for deadlineMs, or moves it there if it is armed.
  void schedule(Node& node, std::uint64_t deadlineMs);
  /// Arms node if it is not armed; moves it earlier if it is armed for a later
  /// deadline; does nothing otherwise (two compares: the per-read call).
  void scheduleNoLaterThan(Node& node, std::uint64_t deadlineMs) {
    if (armed(node) && node.deadlineMs_ <= deadlineMs) return;
    schedule(node, deadlineMs);
  }
  /// Disarms node; nothing happens if it is not armed.
  void cancel(Node& node);

  /// Fires onDue(Node&) for every node whose tick has come by nowMs (see the
  /// file comment for the order and what onDue may do). Returns how many
  /// fired. A nowMs inside a tick already walked fires only overdue nodes.
  template <class F>
  std::size_t advance(std::uint64_t nowMs, F&& onDue);

  static bool armed(const Node& node) { return node.next_ != nullptr; }
  /// The deadline the node was last armed for (meaningful while armed).
  static std::uint64_t deadline(const Node& node) { return node.deadlineMs_; }
  /// Armed nodes.
  std::size_t size() const { return size_; }
  std::uint64_t tickMs() const { return tickMs_; }
  std::size_t slotCount() const { return slotCount_; }
  /// Start of the last tick walked: advance() has fired everything due by then.
  std::uint64_t walkedUntilMs() const { return lastTick_ * tickMs_; }

 private:
  static void makeEmptyList(Node& head);
  static void linkBefore(Node& head, Node& node);
  static void unlink(Node& node);
  /// Moves every node of src to the end of dst; src becomes empty.
  static void splice(Node& dst, Node& src);
  /// Disarms every node of the list and leaves head unarmed.
  static void disarmAll(Node& head);
  Node& slotFor(std::uint64_t tick) { return slots_[tick % slotCount_]; }

  /// advance(), first half: moves every due node into ready (an empty list).
  void collectDue(std::uint64_t nowMs, Node& ready);
  /// advance(), second half: unlinks and disarms the first node of ready, or
  /// returns nullptr (and leaves ready unarmed) once it is empty.
  Node* popReady(Node& ready);
  /// If onDue throws: the nodes not fired yet go back to overdue_.
  void requeue(Node& ready);

  std::uint64_t tickMs_;
  std::size_t slotCount_;
  std::uint64_t lastTick_;  ///< every tick up to this one has been walked
  std::size_t size_ = 0;
  std::unique_ptr<Node[]> slots_;  ///< list heads, one per slot
  Node overdue_;                   ///< armed for a tick already walked
};

/// The hook an owner embeds: `TimerNode idleTimer_;`.
using TimerNode = TimingWheel::Node;

template <class F>
std::size_t TimingWheel::advance(std::uint64_t nowMs, F&& onDue) {
  Node ready;
  collectDue(nowMs, ready);
  std::size_t fired = 0;
  try {
    while (Node* node = popReady(ready)) {
      ++fired;
      onDue(*node);
    }
  } catch (...) {
    requeue(ready);
    throw;
  }
  return fired;
}

}  // namespace uvframe
