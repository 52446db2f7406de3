// io::File's cost: 4 KiB random preads from a 256 MiB file by 64 tasks, on
// each backend - io_uring, where each pread is a ring operation submitted
// with the loop's one io_uring_enter per turn, and epoll, where each is a
// hand-off to the file thread pool and back through the loop's cross-thread
// queue - beside the same preads made by a plain blocking loop on one
// thread. An iteration is 4,096 reads. The file is written just before, so
// it is usually in the page cache: this measures what each path adds to a
// cached read, the worst case for both; on a cold disk the ring and the
// pool's threads overlap the waits, which the blocking loop cannot.
//
//   ./bazelw run --config=opt //bench:file_read
// The file goes to $TMPDIR (default /tmp) and is removed at the end.
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "benchmark/benchmark.h"
#include "evergreen/io/file.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/loop_options.h"
#include "evergreen/loop/task.h"

namespace evergreen {
namespace {

constexpr size_t kFileBytes = size_t{256} << 20;
constexpr size_t kReadBytes = 4096;
constexpr int kTasks = 64;
constexpr int kReadsPerTask = 64;
constexpr int kReadsPerIteration = kTasks * kReadsPerTask;

std::string& data_path() {
  static std::string path;
  return path;
}

// Random 4 KiB-aligned offsets, the same for both benchmarks.
std::vector<off_t> offsets(uint64_t seed) {
  std::mt19937_64 random(seed);
  std::uniform_int_distribution<size_t> block(0, kFileBytes / kReadBytes - 1);
  std::vector<off_t> result(kReadsPerIteration);
  for (off_t& offset : result) offset = off_t(block(random) * kReadBytes);
  return result;
}

void BM_FilePreadTasks(benchmark::State& state, Backend backend) {
  const std::vector<off_t> where = offsets(1);
  std::optional<EventLoop> loop;
  try {
    loop.emplace(LoopOptions{backend});
  } catch (const std::exception& error) {
    state.SkipWithError(error.what());
    return;
  }
  io::File file = io::File::open(data_path(), O_RDONLY);
  size_t bytes = 0;
  std::vector<std::shared_ptr<Task>> tasks;
  tasks.reserve(kTasks);
  for (auto _ : state) {
    for (int t = 0; t < kTasks; ++t) {
      tasks.push_back(spawn([&, t] {
        for (int i = 0; i < kReadsPerTask; ++i) {
          bytes += file.pread(kReadBytes, where[size_t(t * kReadsPerTask + i)]).size();
        }
      }));
    }
    for (auto& task : tasks) task->join();
    tasks.clear();
  }
  benchmark::DoNotOptimize(bytes);
  state.counters["seconds_per_read"] =
      bench::seconds_per(double(state.iterations()) * kReadsPerIteration);
  file.close();
  loop->destroy();
}
BENCHMARK_CAPTURE(BM_FilePreadTasks, io_uring, Backend::kIoUring)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_FilePreadTasks, thread_pool, Backend::kEpoll)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_BlockingPread(benchmark::State& state) {
  const std::vector<off_t> where = offsets(1);
  const int fd = ::open(data_path().c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    state.SkipWithError("cannot open the data file");
    return;
  }
  std::string buffer(kReadBytes, '\0');
  size_t bytes = 0;
  for (auto _ : state) {
    for (off_t offset : where) {
      ssize_t got = ::pread(fd, buffer.data(), kReadBytes, offset);
      if (got > 0) bytes += size_t(got);
    }
  }
  benchmark::DoNotOptimize(bytes);
  state.counters["seconds_per_read"] =
      bench::seconds_per(double(state.iterations()) * kReadsPerIteration);
  ::close(fd);
}
BENCHMARK(BM_BlockingPread)->Unit(benchmark::kMillisecond)->UseRealTime();

// Writes the data file with plain blocking calls (setup, not measured).
bool write_data_file() {
  const char* dir = std::getenv("TMPDIR");
  std::string pattern = std::string(dir != nullptr ? dir : "/tmp") + "/evergreen_file_read.XXXXXX";
  const int fd = ::mkstemp(pattern.data());
  if (fd < 0) return false;
  data_path() = pattern;
  std::string chunk(size_t{1} << 20, '\0');
  std::mt19937_64 random(7);
  for (char& c : chunk) c = char(random());
  for (size_t done = 0; done < kFileBytes; done += chunk.size()) {
    if (::write(fd, chunk.data(), chunk.size()) != ssize_t(chunk.size())) {
      ::close(fd);
      return false;
    }
  }
  ::close(fd);
  return true;
}

}  // namespace
}  // namespace evergreen

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const bool ready = evergreen::write_data_file();
  if (ready) benchmark::RunSpecifiedBenchmarks();
  if (!evergreen::data_path().empty()) ::unlink(evergreen::data_path().c_str());
  benchmark::Shutdown();
  return ready ? 0 : 1;
}
