// Go's side of bench/run_go_compare.sh: the cold-start workloads of issue 18,
// once per process, as //bench:timers' BM_TimersColdStart and
// //bench:idle_tasks' BM_IdleTasksColdStart measure them (dev-only; standard
// library only, builds offline). Run with GOMAXPROCS=1 to compare with one
// evergreen loop thread.
//
//	timers N   N goroutines each sleeping a random 0-100 ms (the same seeded
//	           delays, drawn before the clock starts): wall time from the
//	           first spawn to the last wake, and the process's peak RSS
//	idle N     N goroutines each blocked on one channel: creation time per
//	           goroutine (first spawn until all have run), resident bytes per
//	           idle goroutine, and the process's peak RSS
//
// Each mode prints one line of key=value pairs, the keys named as the
// evergreen benchmarks' counters.
package main

import (
	"fmt"
	"math/rand"
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
)

func residentBytes() int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		fmt.Fprintln(os.Stderr, "cannot read /proc/self/statm:", err)
		os.Exit(1)
	}
	var size, resident int64
	if _, err := fmt.Sscanf(string(data), "%d %d", &size, &resident); err != nil {
		fmt.Fprintln(os.Stderr, "cannot parse /proc/self/statm:", err)
		os.Exit(1)
	}
	return resident * int64(os.Getpagesize())
}

func peakRSSMiB() float64 {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		fmt.Fprintln(os.Stderr, "getrusage:", err)
		os.Exit(1)
	}
	return float64(usage.Maxrss) / 1024 // KiB on Linux
}

func timers(n int) {
	random := rand.New(rand.NewSource(12345))
	delays := make([]time.Duration, n)
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
	wall := float64(time.Since(start).Nanoseconds()) / 1e6
	fmt.Printf("cold_wall_ms=%.1f peak_rss_MiB=%.1f\n", wall, peakRSSMiB())
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
	fmt.Printf("create_ns_per_task=%.1f rss_bytes_per_task=%.0f peak_rss_MiB=%.1f\n",
		float64(elapsed.Nanoseconds())/float64(n), float64(after-before)/float64(n), peakRSSMiB())
	close(block)
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: cold_start timers|idle N")
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[2])
	if err != nil || n <= 0 {
		fmt.Fprintf(os.Stderr, "cold_start: task count %q is not a positive integer\n", os.Args[2])
		os.Exit(2)
	}
	switch os.Args[1] {
	case "timers":
		timers(n)
	case "idle":
		idle(n)
	default:
		fmt.Fprintf(os.Stderr, "cold_start: unknown mode %q (timers or idle)\n", os.Args[1])
		os.Exit(2)
	}
}
