// evergreen/sync/channel.h
//
// Channel<T>: an unbuffered rendezvous between tasks. send() hands a value to
// a receiver, blocking until one takes it; receive() blocks until a sender
// offers one.
//
//   Channel<std::unique_ptr<Job>> jobs;
//   spawn([&] { for (auto& job : make_jobs()) jobs.send(std::move(job)); jobs.close(); });
//   for (std::unique_ptr<Job> job : jobs) run(*job);   // until close()
//
// Guarantees:
// - Blocked senders are served in the order they blocked, and so are blocked
//   receivers. send() to a waiting receiver does not block.
// - A value is delivered exactly once: a sender killed (or timed out) while
//   blocked leaves the channel with its value undelivered; a receiver killed
//   in the same loop turn a value reached it still returns the value, and the
//   exception is raised at its next suspension point.
// - receive_for(duration) (beyond the seed) waits a bounded time and returns
//   std::nullopt when no sender came.
// - send_exception() makes the receiving receive() throw that exception.
// - close() (beyond the seed) wakes every blocked sender and receiver with
//   ChannelClosed; later send()/receive() throw it too. Iterating a channel
//   receives until it is closed. Destroying a channel closes it.
// - Works with move-only T.
// - Single-loop object: it belongs to the thread that first uses it; a member
//   called from another thread throws std::logic_error naming both threads
//   (builds without NDEBUG).
#ifndef EVERGREEN_SYNC_CHANNEL_H_
#define EVERGREEN_SYNC_CHANNEL_H_

#include <chrono>
#include <cstddef>
#include <exception>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <utility>

#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/internal/thread_affinity.h"
#include "evergreen/loop/internal/wait_queue.h"
#include "evergreen/sync/internal/take_iterator.h"

namespace evergreen {

// Thrown by send() and receive() on a closed Channel.
class ChannelClosed : public std::runtime_error {
 public:
  ChannelClosed() : std::runtime_error("evergreen: the channel is closed") {}
};

namespace internal {
// Out of line (channel.cc), so the throw's code does not count against
// inlining send() and receive() into their callers: a channel round trip is
// a few dozen instructions, and a call and return more is measurable there.
[[noreturn]] void throw_channel_closed();
[[noreturn]] void rethrow_sent_exception(std::exception_ptr error);
}  // namespace internal

template <class T>
class Channel {
 public:
  using Iterator = internal::TakeIterator<Channel, T>;

  Channel() = default;
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
  // Closes the channel: tasks still blocked on it get ChannelClosed.
  ~Channel() { close_unchecked(); }

  // Channel::send()
  //
  // Hands `value` to the longest-waiting receiver, or blocks until a receiver
  // takes it. Throws ChannelClosed if the channel is closed (before or while
  // blocked; the value is then dropped). Raises a kill or Timeout delivered
  // while blocked (the value is not delivered). Throws std::runtime_error if it
  // would block inside a loop callback.
  void send(T value) { send_message(Message{std::move(value), nullptr}); }

  // Channel::send_exception()
  //
  // Like send(), but the receiver's receive() throws `error`.
  void send_exception(std::exception_ptr error) {
    send_message(Message{std::nullopt, std::move(error)});
  }

  // Channel::receive()
  //
  // Takes the value of the longest-waiting sender, or blocks until one sends.
  // Throws what send_exception() sent, or ChannelClosed once the channel is
  // closed. Raises a kill or Timeout delivered while blocked. Throws
  // std::runtime_error if it would block inside a loop callback.
  T receive() {
    Message message;
    if (receive_message(message, std::nullopt, "receive") == Received::kClosed) {
      internal::throw_channel_closed();
    }
    if (message.error) internal::rethrow_sent_exception(std::move(message.error));
    return std::move(*message.value);
  }

  // Channel::receive_for()
  //
  // Like receive(), but waits at most `timeout` (any std::chrono::duration,
  // rounded up to nanoseconds) for a sender: std::nullopt if none sent in
  // time (nothing is taken). Throws what send_exception() sent, or
  // ChannelClosed once the channel is closed (also when close() wakes it).
  // Raises a kill or Timeout delivered while blocked. Throws
  // std::runtime_error if it would block inside a loop callback.
  template <class Rep, class Period>
  std::optional<T> receive_for(std::chrono::duration<Rep, Period> timeout) {
    Message message;
    switch (receive_message(message, to_duration(timeout), "receive_for")) {
      case Received::kClosed:
        internal::throw_channel_closed();
      case Received::kTimedOut:
        return std::nullopt;
      case Received::kMessage:
        break;
    }
    if (message.error) internal::rethrow_sent_exception(std::move(message.error));
    return std::move(message.value);
  }

  // Channel::close()
  //
  // Closes the channel and wakes every blocked sender and receiver with
  // ChannelClosed. Closing again does nothing. Never blocks.
  void close() {
    affinity_.check(this, "Channel", "close");
    close_unchecked();
  }

  bool closed() const {
    affinity_.check(this, "Channel", "closed");
    return closed_;
  }

  // Iteration: begin() receives the first value; the iterator equals end()
  // once the channel is closed. Dereferencing yields the received value as an
  // rvalue (so `for (T v : channel)` works for move-only T); dereference once
  // per step. A value sent with send_exception() throws out of the loop.
  Iterator begin() { return Iterator(this); }
  std::default_sentinel_t end() { return {}; }

 private:
  // What travels from a sender to a receiver: a value or an exception.
  struct Message {
    std::optional<T> value;
    std::exception_ptr error;
  };
  // A blocked sender's waiter data.
  struct Offer {
    Message* message;
    bool taken = false;
  };

  // The destructor's close(): a destructor must not throw, whichever thread
  // runs it.
  void close_unchecked() {
    closed_ = true;
    receivers_.notify_all();  // their slots stay empty: closed
    senders_.notify_all();    // their values stay untaken: closed
  }

  void send_message(Message message) {
    affinity_.check(this, "Channel", "send");
    if (closed_) internal::throw_channel_closed();
    if (internal::WaitQueue::Waiter* receiver = receivers_.front()) {
      *static_cast<Message*>(receiver->data) = std::move(message);
      receivers_.notify(receiver);
      return;
    }
    Offer offer{&message};
    senders_.wait("Channel::send", std::nullopt, &offer);
    if (!offer.taken) internal::throw_channel_closed();  // close() woke us
  }

  enum class Received { kMessage, kClosed, kTimedOut };

  // The iterator's step: blocks like receive(); nullopt once closed.
  friend Iterator;
  std::optional<T> take_for_iteration() {
    Message message;
    if (receive_message(message, std::nullopt, "iteration") == Received::kClosed) {
      return std::nullopt;
    }
    if (message.error) internal::rethrow_sent_exception(std::move(message.error));
    return std::move(message.value);
  }

  // Fills `out` from a sender, waiting up to `timeout` (nullopt: forever).
  Received receive_message(Message& out, std::optional<Duration> timeout, const char* member) {
    affinity_.check(this, "Channel", member);
    if (internal::WaitQueue::Waiter* sender = senders_.front()) {
      auto* offer = static_cast<Offer*>(sender->data);
      out = std::move(*offer->message);
      offer->taken = true;
      senders_.notify(sender);
      return Received::kMessage;
    }
    if (closed_) return Received::kClosed;
    if (!receivers_.wait("Channel::receive", timeout, &out)) return Received::kTimedOut;
    // A sender filled the slot, or close() woke us with it empty.
    return out.value.has_value() || out.error != nullptr ? Received::kMessage : Received::kClosed;
  }

  bool closed_ = false;
  internal::WaitQueue senders_;    // waiter data: Offer*
  internal::WaitQueue receivers_;  // waiter data: Message* to fill
  internal::ThreadAffinity affinity_;
};

}  // namespace evergreen

#endif  // EVERGREEN_SYNC_CHANNEL_H_
