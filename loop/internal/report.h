// Reporting exceptions that nobody can catch: those escaping a loop callback
// or a task. They go to the report handler (evergreen/loop/report.h; stderr
// by default), and the loop goes on.
#ifndef EVERGREEN_LOOP_INTERNAL_REPORT_H_
#define EVERGREEN_LOOP_INTERNAL_REPORT_H_

#include <exception>
#include <string>
#include <string_view>

namespace evergreen::internal {

// A one-line description of the exception being handled (inside a catch):
// "<demangled type>: <what()>" for a std::exception, "TaskExit", "Timeout",
// or "unknown exception of type <demangled type>".
std::string describe_current_exception();

// The demangled form of a type name from typeid().name() (the name itself
// if it does not demangle).
std::string demangle(const char* mangled);

// Reports the exception being handled (inside a catch) as
// "<subject>: <description>", naming `task_name` (empty: no task).
void report_current_exception(std::string_view subject, std::string_view task_name = {});

// Reports `message` without an exception: for conditions the library
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
