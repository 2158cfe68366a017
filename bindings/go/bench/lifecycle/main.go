// Command lifecycle is cairn-bench's lifecycle workload (tests/bench) from
// Go: producers Enqueue one task per rpc, workers Lease one (long-polling)
// and Complete it, each on a connection of its own, for -duration; it
// prints completed lifecycles per second and this process's CPU.
//
//	go run ./bench/lifecycle -server tcp://127.0.0.1:7420 [-clients 16]
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	cairn "cairn.dev/cairn"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func main() {
	server := flag.String("server", cairn.DefaultURL, "cairnd's address")
	clients := flag.Int("clients", 16, "connections, one per loop")
	producers := flag.Int("producers", 0, "producer loops (default clients/3)")
	duration := flag.Duration("duration", 5*time.Second, "time to measure")
	size := flag.Int("payload", 100, "payload bytes")
	flag.Parse()
	if *producers <= 0 {
		*producers = max(1, *clients/3)
	}
	workers := max(1, *clients-*producers)
	queue := fmt.Sprintf("bench.go.%d.%d", os.Getpid(), time.Now().UnixNano())
	payload := make([]byte, *size)
	ctx := context.Background()

	conns := make([]*cairn.Client, *producers+workers)
	for i := range conns {
		c, err := cairn.Dial(ctx, *server, &cairn.Options{Timeout: 30 * time.Second})
		if err != nil {
			log.Fatal(err)
		}
		conns[i] = c
	}
	var stop atomic.Bool
	var done atomic.Int64
	var wg sync.WaitGroup
	cpu0, t0 := cpuTime(), time.Now()
	for i, c := range conns {
		wg.Add(1)
		go func(i int, c *cairn.Client) {
			defer wg.Done()
			for !stop.Load() {
				if i < *producers {
					if _, _, err := c.Enqueue(ctx, queue, payload, nil); err != nil {
						log.Fatal(err)
					}
					continue
				}
				ts, err := c.Lease(ctx, []string{queue}, cairn.LeaseOptions{Wait: 100 * time.Millisecond, WorkerID: "bench-go"})
				if err != nil {
					log.Fatal(err)
				}
				for _, t := range ts {
					if _, err := c.Complete(ctx, t.Task.Id, t.LeaseToken, nil, nil); err != nil {
						log.Fatal(err)
					}
					if !stop.Load() {
						done.Add(1)
					}
				}
			}
		}(i, c)
	}
	time.Sleep(*duration)
	elapsed := time.Since(t0).Seconds()
	counted := done.Load()
	stop.Store(true)
	cpu := (cpuTime() - cpu0).Seconds() / elapsed
	wg.Wait()
	for _, c := range conns {
		c.Close()
	}
	fmt.Printf("go: %.0f lifecycles/s (%d producers, %d workers, %.1f s; this process used %.0f%% of a core)\n",
		float64(counted)/elapsed, *producers, workers, elapsed, cpu*100)
}
