#include <stdexcept>

#include "evergreen/futures/executor.h"
#include "evergreen/futures/internal/destructor_wait.h"
#include "evergreen/futures/internal/thread_pool.h"

namespace evergreen::futures {

ThreadPoolExecutor::ThreadPoolExecutor(size_t max_workers) {
  if (max_workers == 0) {
    throw std::invalid_argument("evergreen: ThreadPoolExecutor: max_workers must be at least 1");
  }
  pool_ = std::make_unique<internal::ThreadPool>(max_workers);
}

ThreadPoolExecutor::~ThreadPoolExecutor() {
  pool_->shutdown(false);
  if (pool_->can_wait_here()) internal::wait_in_destructor([this] { pool_->shutdown(true); });
  // Whatever is left (the wait could not happen or was cut short) is joined
  // by the pool's destructor.
}

void ThreadPoolExecutor::shutdown(bool wait) {
  pool_->check_thread(this, "ThreadPoolExecutor", "shutdown");
  pool_->shutdown(wait);
}

void ThreadPoolExecutor::enqueue(std::shared_ptr<internal::FutureStateBase> job) {
  pool_->check_thread(this, "ThreadPoolExecutor", "submit");
  pool_->submit(std::move(job));
}

}  // namespace evergreen::futures
