// Two tasks bounce an int back and forth over unbuffered Channel<int>s:
// the cost of one round trip (two rendezvous, four context switches through
// the loop). Compare with BM_BoostUnbufferedChannelPingPong in sync_boost.cc.
#include <memory>

#include "bench/bench_util.h"
#include "benchmark/benchmark.h"
#include "evergreen/loop/event_loop.h"
#include "evergreen/loop/task.h"
#include "evergreen/sync/channel.h"

namespace evergreen {
namespace {

void BM_ChannelPingPong(benchmark::State& state) {
  const int round_trips = static_cast<int>(state.range(0));
  for (auto _ : state) {
    Channel<int> ping, pong;
    auto pinger = spawn([&] {
      for (int i = 0; i < round_trips; ++i) {
        ping.send(i);
        benchmark::DoNotOptimize(pong.receive());
      }
    });
    auto ponger = spawn([&] {
      for (int i = 0; i < round_trips; ++i) pong.send(ping.receive());
    });
    pinger->join();
    ponger->join();
  }
  state.counters["seconds_per_round_trip"] =
      bench::seconds_per(static_cast<double>(state.iterations()) * round_trips);
  state.counters["round_trips"] = round_trips;
  EventLoop::current().destroy();
}
BENCHMARK(BM_ChannelPingPong)
    ->ArgName("round_trips")
    ->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace evergreen

BENCHMARK_MAIN();
