// Command producer enqueues a greeting task per name and, with -await,
// waits for each result.
//
//	go run ./examples/producer [-url ...] [-queue greetings] [-await] Ana Bo
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	cairn "cairn.dev/cairn"
)

func main() {
	url := flag.String("url", env("CAIRN_SERVER", cairn.DefaultURL), "cairnd's address")
	queue := flag.String("queue", "greetings", "queue to enqueue on")
	token := flag.String("token", os.Getenv("CAIRN_TOKEN"), "auth token")
	await := flag.Bool("await", false, "wait for each result")
	flag.Parse()
	names := flag.Args()
	if len(names) == 0 {
		names = []string{"Ana"}
	}

	ctx := context.Background()
	c, err := cairn.Dial(ctx, *url, &cairn.Options{Token: *token, Timeout: 10 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	for _, name := range names {
		payload, _ := json.Marshal(map[string]string{"name": name})
		id, _, err := c.Enqueue(ctx, *queue, payload, &cairn.EnqueueOptions{MaxAttempts: 3})
		if err != nil {
			log.Fatal(err)
		}
		if !*await {
			fmt.Println(id)
			continue
		}
		t, done, err := c.Await(ctx, id, 30*time.Second)
		switch {
		case err != nil:
			log.Fatal(err)
		case !done:
			fmt.Printf("task %d still %s\n", id, t.State)
		default:
			fmt.Printf("task %d %s: %s%s\n", id, t.State, t.Result, t.LastError)
		}
	}
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
