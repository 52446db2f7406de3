#include "evergreen/loop/internal/report.h"

#include <cstdio>
#include <exception>
#include <stdexcept>
#include <typeinfo>

#include "evergreen/loop/task.h"
#include "evergreen/loop/timeout.h"

namespace evergreen::internal {

std::string describe_current_exception() {
  try {
    throw;
  } catch (const std::exception& error) {
    return std::string(typeid(error).name()) + ": " + error.what();
  } catch (const TaskExit&) {
    return "TaskExit";
  } catch (const Timeout&) {
    return "Timeout";
  } catch (...) {
    return "unknown exception";
  }
}

void report_current_exception(std::string_view subject) {
  report_message(std::string(subject) + ": " + describe_current_exception());
}

void report_message(std::string_view message) {
  std::string line = "evergreen: " + std::string(message) + "\n";
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
}

}  // namespace evergreen::internal
