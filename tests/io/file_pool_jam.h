// PoolJam: keeps every thread of io's file pool busy until released, so a
// test can tell where a file call ran - one that went to the pool waits for
// the release, one the kernel performs (io_uring) completes meanwhile.
#ifndef EVERGREEN_TESTS_IO_FILE_POOL_JAM_H_
#define EVERGREEN_TESTS_IO_FILE_POOL_JAM_H_

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "evergreen/io/internal/file_pool.h"

namespace evergreen::testing {

class PoolJam {
 public:
  static constexpr int kThreads = static_cast<int>(io::internal::FilePool::kMaxThreads);

  // Returns once every pool thread runs one of the jam's jobs; throws
  // std::runtime_error if that takes over 10 s.
  PoolJam() {
    for (int i = 0; i < kThreads; ++i) {
      io::internal::FilePool::instance().submit([this] {
        started_.fetch_add(1);
        released_.wait(false);
        finished_.fetch_add(1);
        finished_.notify_all();
      });
    }
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (started_.load() < kThreads) {
      if (std::chrono::steady_clock::now() > give_up) {
        release();
        throw std::runtime_error("PoolJam: the file pool's threads did not all start");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  // Releases the threads and waits until the jam's jobs are done with it.
  ~PoolJam() {
    release();
    for (int done = finished_.load(); done < kThreads; done = finished_.load()) {
      finished_.wait(done);
    }
  }
  PoolJam(const PoolJam&) = delete;
  PoolJam& operator=(const PoolJam&) = delete;

  void release() {
    released_.store(true);
    released_.notify_all();
  }

 private:
  std::atomic<int> started_{0};
  std::atomic<bool> released_{false};
  std::atomic<int> finished_{0};
};

}  // namespace evergreen::testing

#endif  // EVERGREEN_TESTS_IO_FILE_POOL_JAM_H_
