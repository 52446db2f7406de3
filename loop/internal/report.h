// Reporting exceptions that nobody can catch: those escaping a loop callback
// or a task. They go to stderr, and the loop goes on.
#ifndef EVERGREEN_LOOP_INTERNAL_REPORT_H_
#define EVERGREEN_LOOP_INTERNAL_REPORT_H_

#include <string>
#include <string_view>

namespace evergreen::internal {

// A one-line description of the exception being handled (inside a catch).
std::string describe_current_exception();

// Writes "evergreen: <subject> <verb>: <description>" to stderr.
void report_current_exception(std::string_view subject);

// Writes "evergreen: <message>" to stderr: for conditions the library
// recovers from on its own but an operator must hear about (a server out of
// file descriptors), reported through the same path as failures.
void report_message(std::string_view message);

template <class F>
void report_exceptions(std::string_view subject, F&& f) {
  try {
    f();
  } catch (...) {
    report_current_exception(std::string("exception escaped ") + std::string(subject));
  }
}

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_REPORT_H_
