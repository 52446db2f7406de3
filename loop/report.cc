// The report handler (evergreen/loop/report.h) and the internal reporting
// calls that feed it (internal/report.h).
#include "evergreen/loop/report.h"

#include <cxxabi.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <typeinfo>
#include <utility>

#include "evergreen/loop/internal/report.h"
#include "evergreen/loop/task.h"
#include "evergreen/loop/timeout.h"

namespace evergreen {
namespace {

void write_to_stderr(const std::string& message) {
  std::string line = "evergreen: " + message + "\n";
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
}

// An installed handler. Its own mutex serializes the calls to it, so a
// handler that is not thread-safe still works when several loops report at
// once; it is not the installation mutex, so the handler may install another.
struct InstalledHandler {
  std::mutex calls;
  absl::AnyInvocable<void(const Report&)> handle;
};

// The process-wide handler (null: stderr). A function-local static, so it is
// usable from any static initializer and never destroyed while threads may
// still report at exit.
struct HandlerSlot {
  std::mutex install;
  std::shared_ptr<InstalledHandler> handler;
};

HandlerSlot& handler_slot() {
  static HandlerSlot* slot = new HandlerSlot;
  return *slot;
}

void deliver_report(const Report& report) {
  std::shared_ptr<InstalledHandler> handler;
  {
    HandlerSlot& slot = handler_slot();
    std::lock_guard<std::mutex> lock(slot.install);
    handler = slot.handler;
  }
  if (handler == nullptr) {
    write_to_stderr(report.message);
    return;
  }
  try {
    std::lock_guard<std::mutex> lock(handler->calls);
    handler->handle(report);
  } catch (...) {
    write_to_stderr(report.message + " (the report handler failed with " +
                    internal::describe_current_exception() + ")");
  }
}

}  // namespace

void set_report_handler(absl::AnyInvocable<void(const Report&)> handler) {
  std::shared_ptr<InstalledHandler> installed;
  if (handler) {
    installed = std::make_shared<InstalledHandler>();
    installed->handle = std::move(handler);
  }
  HandlerSlot& slot = handler_slot();
  std::lock_guard<std::mutex> lock(slot.install);
  // The previous handler dies once the reports using it end.
  slot.handler = std::move(installed);
}

namespace internal {

std::string demangle(const char* mangled) {
  int status = 0;
  char* readable = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  if (status != 0 || readable == nullptr) return mangled;
  std::string name(readable);
  std::free(readable);
  return name;
}

std::string describe_current_exception() {
  try {
    throw;
  } catch (const std::exception& error) {
    return demangle(typeid(error).name()) + ": " + error.what();
  } catch (const TaskExit&) {
    return "TaskExit";
  } catch (const Timeout&) {
    return "Timeout";
  } catch (...) {
    const std::type_info* type = abi::__cxa_current_exception_type();
    if (type == nullptr) return "unknown exception";
    return "unknown exception of type " + demangle(type->name());
  }
}

void report_current_exception(std::string_view subject, std::string_view task_name) {
  Report report;
  report.task_name = std::string(task_name);
  report.error = std::current_exception();
  report.message = std::string(subject) + ": " + describe_current_exception();
  deliver_report(report);
}

void report_message(std::string_view message) {
  Report report;
  report.message = std::string(message);
  deliver_report(report);
}

}  // namespace internal
}  // namespace evergreen
