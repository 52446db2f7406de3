// Go baselines for evergreen's loop and sync benchmarks, measured on the same
// machine in the same session (dev-only; standard library only, builds offline):
//
//	idle N     N goroutines each blocked on one channel: creation time and RSS per goroutine
//	timers N   N goroutines each sleeping a random 0-100 ms: wall time of the whole set,
//	           for the first round and the mean of three more (as //bench:timers'
//	           BM_TimersColdStart reports cold_wall_ms and BM_Timers warm_wall_ms)
//	spawn N    spawn + WaitGroup of N trivial goroutines, 10,000 alive at a time
//
// Run with GOMAXPROCS=1 to compare with one evergreen loop thread
// (bench/run_go_compare.sh does).
package main

import (
	"flag"
	"fmt"
	"math/rand"
	"os"
	"runtime"
	"sync"
	"time"
)

func residentBytes() int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var size, resident int64
	fmt.Sscanf(string(data), "%d %d", &size, &resident)
	return resident * int64(os.Getpagesize())
}

func idle(n int) {
	runtime.GC()
	before := residentBytes()
	block := make(chan struct{})
	var started sync.WaitGroup
	started.Add(n)
	start := time.Now()
	for i := 0; i < n; i++ {
		go func() {
			started.Done()
			<-block
		}()
	}
	started.Wait()
	elapsed := time.Since(start)
	after := residentBytes()
	fmt.Printf("go idle %d: create_per_task=%.2fus rss_per_task=%.0fB\n", n,
		float64(elapsed.Nanoseconds())/float64(n)/1000, float64(after-before)/float64(n))
	close(block)
}

func timers(n int) {
	random := rand.New(rand.NewSource(12345))
	delays := make([]time.Duration, n)
	round := func() float64 {
		for i := range delays {
			delays[i] = time.Duration(random.Intn(100001)) * time.Microsecond
		}
		var done sync.WaitGroup
		done.Add(n)
		start := time.Now()
		for _, delay := range delays {
			go func(d time.Duration) {
				time.Sleep(d)
				done.Done()
			}(delay)
		}
		done.Wait()
		return float64(time.Since(start).Microseconds()) / 1000
	}
	const warmRounds = 3
	cold := round()
	warm := 0.0
	for i := 0; i < warmRounds; i++ {
		warm += round()
	}
	fmt.Printf("go timers %d: wall_ms=%.1f warm_wall_ms=%.1f\n", n, cold, warm/warmRounds)
}

func spawn(n int) {
	const aliveAtOnce = 10000
	counter := 0
	var mutex sync.Mutex
	start := time.Now()
	for done := 0; done < n; done += aliveAtOnce {
		var group sync.WaitGroup
		group.Add(aliveAtOnce)
		for i := 0; i < aliveAtOnce; i++ {
			go func() {
				mutex.Lock()
				counter++
				mutex.Unlock()
				group.Done()
			}()
		}
		group.Wait()
	}
	fmt.Printf("go spawn %d: per_task=%.1fns\n", n, float64(time.Since(start).Nanoseconds())/float64(n))
}

func main() {
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: go_compare idle|timers|spawn N")
		os.Exit(2)
	}
	var n int
	fmt.Sscanf(flag.Arg(1), "%d", &n)
	switch flag.Arg(0) {
	case "idle":
		idle(n)
	case "timers":
		timers(n)
	case "spawn":
		spawn(n)
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", flag.Arg(0))
		os.Exit(2)
	}
}
