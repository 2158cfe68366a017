// Command worker answers every task of some queues whose payload is
// {"name": ...} with a greeting, four at a time, until Ctrl-C (or -count
// tasks). -queue takes a comma-separated list (the activities of a
// workflow: -queue reserve,charge,ship).
//
//	go run ./examples/worker [-url tcp://127.0.0.1:7420] [-queue greetings]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	cairn "cairn.dev/cairn"
)

func main() {
	url := flag.String("url", env("CAIRN_SERVER", cairn.DefaultURL), "cairnd's address")
	queue := flag.String("queue", "greetings", "queues to work on, comma-separated")
	token := flag.String("token", os.Getenv("CAIRN_TOKEN"), "auth token")
	count := flag.Int64("count", 0, "stop after this many tasks (0: never)")
	wait := flag.Duration("wait", 5*time.Second, "one Lease long-poll; a stop may wait that long")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c, err := cairn.Dial(ctx, *url, &cairn.Options{Token: *token})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	var left atomic.Int64
	left.Store(*count)
	var w *cairn.Worker
	w = cairn.NewWorker(c, strings.Split(*queue, ","), func(ctx context.Context, j *cairn.Job) ([]byte, error) {
		var in struct{ Name string }
		if err := json.Unmarshal(j.Payload(), &in); err != nil || in.Name == "" {
			return nil, cairn.NonRetryable(fmt.Errorf("payload is not {\"name\": ...}: %q", j.Payload()))
		}
		out, _ := json.Marshal(map[string]any{"greeting": "hello, " + in.Name, "by": "go", "attempt": j.Attempt()})
		log.Printf("completing task %d (attempt %d)", j.ID(), j.Attempt())
		if left.Add(-1) == 0 {
			w.Stop() // finishes this task, then Run returns
		}
		return out, nil
	}, cairn.WorkerOptions{Concurrency: 4, Wait: *wait, OnError: func(j *cairn.Job, err error) { log.Print(err) }})
	log.Printf("working on %s at %s; Ctrl-C stops", *queue, *url)
	if err := w.Run(ctx); err != nil {
		log.Fatal(err)
	}
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
