#include "evergreen/loop/timeout.h"

#include <algorithm>
#include <stdexcept>

#include "evergreen/loop/internal/blocking_context.h"
#include "evergreen/loop/internal/loop_clock.h"
#include "evergreen/loop/internal/scheduler.h"

namespace evergreen {

struct Timeout::State final : internal::TimerEntry {
  void fire() override {
    fired = true;
    std::exception_ptr raised = error;
    if (!raised) raised = std::make_exception_ptr(Timeout(weak_self.lock()));
    internal::deliver(*wakes, std::move(raised), this);
  }
  void detach() override { loop = nullptr; }

  void arm() {
    if (!duration || *duration < Duration::zero()) return;
    if (loop == nullptr) {
      throw std::runtime_error("evergreen: Timeout: its event loop was destroyed");
    }
    fired = false;
    loop->add_timer(this, ::evergreen::internal::loop_now() + *duration);
  }

  void disarm() {
    if (loop != nullptr && armed()) loop->remove_timer(this);
    if (loop != nullptr) internal::withdraw(*wakes, this);
  }

  internal::Scheduler* loop = nullptr;
  std::optional<Duration> duration;
  std::exception_ptr error;
  bool fired = false;
  std::weak_ptr<State> weak_self;
};

Timeout::Timeout(std::optional<Duration> duration) : Timeout(duration, nullptr) {}

Timeout::Timeout(std::optional<Duration> duration, std::exception_ptr error)
    : state_(std::make_shared<State>()), owner_(true) {
  internal::BlockingContext& context = internal::current_blocking_context();
  state_->loop = context.loop;
  state_->wakes = &context;
  state_->duration = duration;
  state_->error = std::move(error);
  state_->weak_self = state_;
  state_->arm();
}

Timeout::Timeout(TimePoint deadline) : Timeout(deadline, nullptr) {}

// A passed deadline fires at once: zero, never the negative "never".
Timeout::Timeout(TimePoint deadline, std::exception_ptr error)
    : Timeout(std::optional<Duration>(
                  std::max(deadline - ::evergreen::internal::loop_now(), Duration::zero())),
              std::move(error)) {}

Timeout::Timeout(std::shared_ptr<State> state) : state_(std::move(state)), owner_(false) {}

Timeout::Timeout(const Timeout& other) : state_(other.state_), owner_(false) {}

Timeout::~Timeout() {
  if (owner_ && state_) state_->disarm();
}

void Timeout::start() {
  if (state_->armed()) {
    throw std::logic_error("evergreen: Timeout::start(): the timeout is already armed");
  }
  state_->arm();
}

void Timeout::cancel() { state_->disarm(); }

bool Timeout::fired() const { return state_->fired; }

std::optional<Duration> Timeout::duration() const { return state_->duration; }

}  // namespace evergreen
