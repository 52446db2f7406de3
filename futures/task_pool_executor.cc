#include <stdexcept>

#include "evergreen/futures/executor.h"
#include "evergreen/futures/internal/destructor_wait.h"
#include "evergreen/futures/internal/task_pool.h"

namespace evergreen::futures {

TaskPoolExecutor::TaskPoolExecutor(size_t max_workers) {
  if (max_workers == 0) {
    throw std::invalid_argument("evergreen: TaskPoolExecutor: max_workers must be at least 1");
  }
  pool_ = std::make_shared<internal::TaskPool>(max_workers);
}

TaskPoolExecutor::~TaskPoolExecutor() {
  pool_->shutdown(false);
  if (pool_->can_wait_here()) internal::wait_in_destructor([this] { pool_->shutdown(true); });
}

void TaskPoolExecutor::shutdown(bool wait) {
  pool_->check_thread(this, "TaskPoolExecutor", "shutdown");
  pool_->shutdown(wait);
}

void TaskPoolExecutor::enqueue(std::shared_ptr<internal::FutureStateBase> job) {
  pool_->check_thread(this, "TaskPoolExecutor", "submit");
  pool_->submit(std::move(job));
}

}  // namespace evergreen::futures
