// evergreen/loop/internal/backend_selection.h
//
// Turns LoopOptions::backend (and EVERGREEN_BACKEND for kAuto) into the
// backend a loop is built with.
#ifndef EVERGREEN_LOOP_INTERNAL_BACKEND_SELECTION_H_
#define EVERGREEN_LOOP_INTERNAL_BACKEND_SELECTION_H_

#include "evergreen/loop/loop_options.h"

namespace evergreen::internal {

// Never returns kAuto. Throws std::invalid_argument when EVERGREEN_BACKEND
// names no backend, std::system_error when an explicitly requested backend
// cannot be used.
Backend choose_backend(Backend requested);

}  // namespace evergreen::internal

#endif  // EVERGREEN_LOOP_INTERNAL_BACKEND_SELECTION_H_
