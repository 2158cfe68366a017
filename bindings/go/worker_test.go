package cairn_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cairn "cairn.dev/cairn"
)

func until(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func state(c *cairn.Client, id uint64) cairn.TaskState {
	t, err := c.Get(bg, id)
	if err != nil {
		return -1
	}
	return t.State
}

// run starts w and returns a function that stops it and checks Run's error.
func run(t *testing.T, w *cairn.Worker) func() {
	done := make(chan error, 1)
	go func() { done <- w.Run(bg) }()
	return func() {
		w.Stop()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal("Run:", err)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("Run did not return")
		}
	}
}

func TestWorkerConcurrency(t *testing.T) {
	c := dial(t, sharedURL(t), nil)
	q := queueName(t)
	var specs []*cairn.TaskSpec
	for i := 0; i < 16; i++ {
		specs = append(specs, cairn.Spec(q, []byte(strconv.Itoa(i)), nil))
	}
	rs, err := c.EnqueueMany(bg, specs...)
	if err != nil {
		t.Fatal(err)
	}
	var now, most atomic.Int32
	w := cairn.NewWorker(c, []string{q}, func(ctx context.Context, j *cairn.Job) ([]byte, error) {
		n := now.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(60 * time.Millisecond)
		now.Add(-1)
		i, _ := strconv.Atoi(string(j.Payload()))
		return []byte(strconv.Itoa(2 * i)), nil
	}, cairn.WorkerOptions{Concurrency: 4, Wait: 200 * time.Millisecond})
	stop := run(t, w)
	until(t, "all done", func() bool {
		st, _ := c.Stats(bg, q)
		return len(st) == 1 && st[0].Succeeded == 16
	})
	stop()
	if most.Load() != 4 {
		t.Fatal("most at once:", most.Load())
	}
	for i, r := range rs {
		if task, _ := c.Get(bg, r.Id); string(task.Result) != strconv.Itoa(2*i) {
			t.Fatal(i, string(task.Result))
		}
	}
}

func TestWorkerHeartbeatsKeepTheLease(t *testing.T) {
	c := dial(t, sharedURL(t), nil)
	q := queueName(t)
	id, _, _ := c.Enqueue(bg, q, []byte("slow"), nil)
	var lost atomic.Int32
	w := cairn.NewWorker(c, []string{q}, func(ctx context.Context, j *cairn.Job) ([]byte, error) {
		time.Sleep(1200 * time.Millisecond)
		return []byte("finished"), ctx.Err()
	}, cairn.WorkerOptions{LeaseTimeout: 300 * time.Millisecond, Wait: 200 * time.Millisecond,
		OnError: func(j *cairn.Job, err error) {
			if cairn.IsLeaseLost(err) {
				lost.Add(1)
			}
		}})
	stop := run(t, w)
	until(t, "done", func() bool { return state(c, id) == cairn.Succeeded })
	stop()
	task, _ := c.Get(bg, id)
	beats := 0
	evs, _ := c.History(bg, id)
	for _, e := range evs {
		if e.Kind == "expired" {
			t.Fatal("the lease expired")
		}
		if e.Kind == "heartbeat" {
			beats++
		}
	}
	if lost.Load() != 0 || task.Attempt != 1 || beats < 3 {
		t.Fatal(lost.Load(), task.Attempt, beats)
	}
}

func TestWorkerFailures(t *testing.T) {
	c := dial(t, sharedURL(t), nil)
	q := queueName(t)
	flaky, _, _ := c.Enqueue(bg, q, []byte("flaky"), &cairn.EnqueueOptions{Retry: &cairn.RetryPolicy{InitialBackoffMs: 20}})
	bad, _, _ := c.Enqueue(bg, q, []byte("bad"), &cairn.EnqueueOptions{MaxAttempts: 10})
	w := cairn.NewWorker(c, []string{q}, func(ctx context.Context, j *cairn.Job) ([]byte, error) {
		if string(j.Payload()) == "bad" {
			return nil, cairn.NonRetryable(errors.New("cannot parse"))
		}
		if j.Attempt() == 1 {
			panic("transient")
		}
		return []byte("second time"), nil
	}, cairn.WorkerOptions{Wait: 200 * time.Millisecond})
	stop := run(t, w)
	until(t, "both ended", func() bool { return state(c, flaky) == cairn.Succeeded && state(c, bad) == cairn.Failed })
	stop()
	if f, _ := c.Get(bg, flaky); f.Attempt != 2 || string(f.Result) != "second time" {
		t.Fatal(f)
	}
	if b, _ := c.Get(bg, bad); b.Attempt != 1 || b.LastError != "cannot parse" {
		t.Fatal(b)
	}
	evs, _ := c.History(bg, flaky)
	found := false
	for _, e := range evs {
		found = found || (e.Kind == "failed" && strings.Contains(e.Message, "panic: transient"))
	}
	if !found {
		t.Fatal(evs)
	}
}

func TestWorkerCancel(t *testing.T) {
	c := dial(t, sharedURL(t), nil)
	q := queueName(t)
	id, _, _ := c.Enqueue(bg, q, []byte("long"), nil)
	started := make(chan struct{})
	var cause atomic.Value
	w := cairn.NewWorker(c, []string{q}, func(ctx context.Context, j *cairn.Job) ([]byte, error) {
		close(started)
		<-ctx.Done()
		cause.Store(context.Cause(ctx))
		return nil, context.Cause(ctx)
	}, cairn.WorkerOptions{LeaseTimeout: 300 * time.Millisecond, Wait: 200 * time.Millisecond})
	stop := run(t, w)
	<-started
	if s, err := c.Cancel(bg, id); s != cairn.Active || err != nil {
		t.Fatal(s, err)
	}
	until(t, "canceled", func() bool { return state(c, id) == cairn.Canceled })
	stop()
	if cause.Load() != cairn.ErrTaskCanceled {
		t.Fatal(cause.Load())
	}
}

func TestWorkerGracefulStop(t *testing.T) {
	c := dial(t, sharedURL(t), nil)
	q := queueName(t)
	id, _, _ := c.Enqueue(bg, q, []byte("first"), nil)
	var once sync.Once
	started := make(chan struct{})
	w := cairn.NewWorker(c, []string{q}, func(ctx context.Context, j *cairn.Job) ([]byte, error) {
		once.Do(func() { close(started) })
		time.Sleep(400 * time.Millisecond)
		return []byte("done anyway"), nil
	}, cairn.WorkerOptions{Wait: 200 * time.Millisecond})
	stop := run(t, w)
	<-started
	start := time.Now()
	stop()
	if time.Since(start) < 250*time.Millisecond || state(c, id) != cairn.Succeeded {
		t.Fatal(time.Since(start), state(c, id))
	}
	later, _, _ := c.Enqueue(bg, q, []byte("after stop"), nil)
	time.Sleep(300 * time.Millisecond)
	if state(c, later) != cairn.Pending {
		t.Fatal("leased after Stop")
	}
}

func TestWorkerFatalError(t *testing.T) {
	c := dial(t, sharedURL(t), nil)
	w := cairn.NewWorker(c, []string{"bad queue name"}, func(ctx context.Context, j *cairn.Job) ([]byte, error) {
		return nil, fmt.Errorf("never")
	}, cairn.WorkerOptions{Wait: 100 * time.Millisecond})
	if err := w.Run(bg); !errors.Is(err, cairn.ErrInvalidArgument) {
		t.Fatal(err)
	}
}
