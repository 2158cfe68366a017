// Command workflow starts a run of a workflow type with an input and
// prints "RUN_ID WORKFLOW_ID"; with -await it then waits for the run and
// prints its result, or how it ended (and exits 1).
//
//	go run ./examples/workflow [-url ...] [-queue workflows] [-id ID] [-await] TYPE [INPUT]
//
// The workflow's code runs in a workflow worker written in C or Python
// (client/examples/order_workflow.c is one); its activities may be done by
// any task worker, such as ./examples/worker.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	cairn "cairn.dev/cairn"
)

func main() {
	url := flag.String("url", env("CAIRN_SERVER", cairn.DefaultURL), "cairnd's address")
	queue := flag.String("queue", cairn.DefaultWorkflowQueue, "workflow queue of the run")
	token := flag.String("token", os.Getenv("CAIRN_TOKEN"), "auth token")
	id := flag.String("id", "", "workflow id (default: the server makes one up)")
	await := flag.Bool("await", false, "wait for the run's result")
	timeout := flag.Duration("timeout", time.Minute, "how long -await waits")
	flag.Parse()
	if flag.NArg() < 1 || flag.NArg() > 2 {
		log.Fatal("usage: workflow [flags] TYPE [INPUT]")
	}

	ctx := context.Background()
	c, err := cairn.Dial(ctx, *url, &cairn.Options{Token: *token})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	run, created, err := c.StartWorkflow(ctx, flag.Arg(0), []byte(flag.Arg(1)),
		&cairn.StartWorkflowOptions{WorkflowID: *id, Queue: *queue})
	if err != nil {
		log.Fatal(err)
	}
	if created {
		fmt.Println(run.ID, run.WorkflowID)
	} else {
		fmt.Println(run.ID, run.WorkflowID, "(existing)")
	}
	if !*await {
		return
	}
	result, err := c.WorkflowResult(ctx, run, *timeout)
	var ended *cairn.WorkflowError
	switch {
	case errors.As(err, &ended): // failed, canceled or terminated
		fmt.Println(ended)
		os.Exit(1)
	case err != nil:
		log.Fatal(err)
	}
	fmt.Printf("succeeded: %s\n", result)
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
