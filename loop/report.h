// evergreen/loop/report.h
//
// Where the library reports what nobody can catch: an exception that escaped
// a task (other than TaskExit) or a loop callback (call_soon, call_later, a
// reader/writer, a future's done callback), and conditions the library
// recovers from on its own but an operator must hear about (a server out of
// file descriptors). By default each report is one line on stderr:
//
//   evergreen: task 'fetch-3' ended with an exception: std::logic_error: no route
//
// with the exception's type demangled. A program that logs elsewhere installs
// its own handler:
//
//   set_report_handler([](const Report& report) {
//     LOG(ERROR) << report.message;
//   });
//
// Guarantees:
// - The handler is process-wide: one handler for every thread and loop. It
//   is called on the thread that reports, at most one call at a time
//   (calls from several threads are serialized), and it may call
//   set_report_handler() itself.
// - set_report_handler(nullptr) (an empty handler) restores the stderr
//   default. Installing is thread-safe; a report already being delivered
//   finishes with the handler it started with.
// - The handler must not block the thread for long and should not throw: an
//   exception escaping it is swallowed, and the report then goes to stderr
//   with a note that the handler failed.
#ifndef EVERGREEN_LOOP_REPORT_H_
#define EVERGREEN_LOOP_REPORT_H_

#include <exception>
#include <string>

#include "absl/functional/any_invocable.h"

namespace evergreen {

struct Report {
  // The task the exception escaped; empty for loop callbacks and for
  // reports without a task.
  std::string task_name;
  // The exception reported; null for a report that is only a message.
  std::exception_ptr error;
  // The whole report in one line, as the default handler prints it after
  // "evergreen: " (exception types demangled).
  std::string message;
};

// set_report_handler()
//
// Sends every later report to `handler` instead of stderr; an empty handler
// restores stderr. See the file comment.
void set_report_handler(absl::AnyInvocable<void(const Report&)> handler);

}  // namespace evergreen

#endif  // EVERGREEN_LOOP_REPORT_H_
