// SignalPipe: how signals reach one loop. The process-wide handler
// (signal_router.h) writes each signal number to the pipes of the loops that
// handle it; the loop reads its pipe when the poller reports it readable and
// runs that signal's callbacks on its own thread, in the order they were
// added. Several callbacks may share a signal; the route for a signal exists
// while at least one of them does. Loop thread only.
#ifndef EVERGREEN_LOOP_INTERNAL_SIGNAL_PIPE_H_
#define EVERGREEN_LOOP_INTERNAL_SIGNAL_PIPE_H_

#include <map>
#include <memory>
#include <vector>

#include "evergreen/loop/internal/callback_record.h"
#include "evergreen/loop/internal/poller.h"

namespace evergreen::internal {

class SignalPipe final : public PollHandler {
 public:
  // Opens the pipe and watches its read end. Throws std::system_error.
  explicit SignalPipe(Poller& poller);
  // Removes every route and detaches the records (their Handlers outlive us).
  ~SignalPipe() override;
  SignalPipe(const SignalPipe&) = delete;
  SignalPipe& operator=(const SignalPipe&) = delete;

  // Runs `record` for each delivery of `signum`. Throws std::invalid_argument
  // for a signal that cannot be handled (see add_signal_route()).
  void add(int signum, std::shared_ptr<CallbackRecord> record);
  // Removes every callback of `signum`; returns whether there was any.
  bool remove_all(int signum);
  // Removes one callback (a cancelled Handler).
  void remove(CallbackRecord* record);

  void on_poll_events(uint32_t events) override;

 private:
  Poller& poller_;
  int fds_[2] = {-1, -1};
  Poller::Token token_ = 0;
  std::map<int, std::vector<std::shared_ptr<CallbackRecord>>> handlers_;
};

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_SIGNAL_PIPE_H_
