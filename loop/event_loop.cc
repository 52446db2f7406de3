#include "evergreen/loop/event_loop.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <stdexcept>

#include "evergreen/loop/internal/cross_thread_queue.h"
#include "evergreen/loop/internal/loop_clock.h"
#include "evergreen/loop/internal/loop_core.h"

namespace evergreen {
namespace {

bool on_main_thread() { return syscall(SYS_gettid) == getpid(); }

// The main thread's loop made on demand; torn down when the thread exits.
std::unique_ptr<EventLoop>& on_demand_loop() {
  thread_local std::unique_ptr<EventLoop> loop;
  return loop;
}

void require_loop_thread(const internal::LoopCore* core, const char* operation) {
  if (core == nullptr) {
    throw std::runtime_error(std::string("evergreen: EventLoop::") + operation +
                             "(): the loop was destroyed");
  }
  if (!core->on_loop_thread()) {
    throw std::runtime_error(std::string("evergreen: EventLoop::") + operation +
                             "() called from another thread (only call_from_thread() is "
                             "thread-safe)");
  }
}

}  // namespace

void Handler::cancel() {
  if (record_) record_->cancel();
}

bool Handler::cancelled() const { return record_ && record_->cancelled.load(); }

EventLoop::EventLoop(LoopOptions options)
    : core_(std::make_unique<internal::LoopCore>(this, options)),
      cross_thread_queue_(core_->cross_thread_queue()) {}

Backend EventLoop::backend() const {
  require_loop_thread(core_.get(), "backend");
  return core_->backend();
}

std::string_view EventLoop::backend_fallback_reason() const {
  require_loop_thread(core_.get(), "backend_fallback_reason");
  return core_->backend_fallback_reason();
}

EventLoop::~EventLoop() {
  if (!destroyed_) destroy();
}

EventLoop& EventLoop::current() {
  if (internal::LoopCore* core = internal::LoopCore::for_this_thread()) return core->owner();
  if (!on_main_thread()) {
    throw std::runtime_error(
        "evergreen: this thread has no event loop: construct an EventLoop on it first (only "
        "the main thread gets one on demand)");
  }
  // Build the loop before touching the thread_local holder, so the holder is
  // destroyed at thread exit before the fiber state the loop was built on.
  auto loop = std::make_unique<EventLoop>();
  EventLoop& created = *loop;
  on_demand_loop() = std::move(loop);
  return created;
}

Handler EventLoop::call_soon(Callback callback) {
  require_loop_thread(core_.get(), "call_soon");
  return core_->call_soon(std::move(callback));
}

Handler EventLoop::call_later(Duration delay, Callback callback) {
  require_loop_thread(core_.get(), "call_later");
  return core_->call_at(::evergreen::internal::loop_now() + delay, std::move(callback));
}

Handler EventLoop::call_at(TimePoint when, Callback callback) {
  require_loop_thread(core_.get(), "call_at");
  return core_->call_at(when, std::move(callback));
}

Handler EventLoop::call_from_thread(Callback callback) {
  return internal::LoopCore::post_from_thread(*cross_thread_queue_, std::move(callback));
}

TimePoint EventLoop::time() const { return ::evergreen::internal::loop_now(); }

void EventLoop::add_reader(int fd, Callback callback) {
  require_loop_thread(core_.get(), "add_reader");
  core_->add_fd_callback(fd, false, std::move(callback));
}

void EventLoop::add_writer(int fd, Callback callback) {
  require_loop_thread(core_.get(), "add_writer");
  core_->add_fd_callback(fd, true, std::move(callback));
}

bool EventLoop::remove_reader(int fd) {
  require_loop_thread(core_.get(), "remove_reader");
  return core_->remove_fd_callback(fd, false);
}

bool EventLoop::remove_writer(int fd) {
  require_loop_thread(core_.get(), "remove_writer");
  return core_->remove_fd_callback(fd, true);
}

Handler EventLoop::add_signal_handler(int signum, Callback callback) {
  require_loop_thread(core_.get(), "add_signal_handler");
  return core_->add_signal_handler(signum, std::move(callback));
}

bool EventLoop::remove_signal_handler(int signum) {
  require_loop_thread(core_.get(), "remove_signal_handler");
  return core_->remove_signal_handler(signum);
}

void EventLoop::switch_to() {
  require_loop_thread(core_.get(), "switch_to");
  core_->switch_to_loop();
}

void EventLoop::set_stall_threshold(std::optional<Duration> threshold) {
  require_loop_thread(core_.get(), "set_stall_threshold");
  core_->set_stall_threshold(threshold);
}

void EventLoop::run() {
  require_loop_thread(core_.get(), "run");
  core_->run(false);
}

void EventLoop::run_forever() {
  require_loop_thread(core_.get(), "run_forever");
  core_->run(true);
}

void EventLoop::stop() {
  require_loop_thread(core_.get(), "stop");
  core_->stop();
}

void EventLoop::destroy() {
  if (destroyed_) throw std::runtime_error("evergreen: EventLoop::destroy() called twice");
  require_loop_thread(core_.get(), "destroy");
  core_->destroy();
  destroyed_ = true;
  core_.reset();
}

}  // namespace evergreen

namespace evergreen::internal {

Scheduler& Scheduler::current() {
  if (Scheduler* loop = for_this_thread()) return *loop;
  return *EventLoop::current().core_;
}

}  // namespace evergreen::internal
