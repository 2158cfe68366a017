package cairn_test

// The workflow calls against a real cairnd. The runs' code is the C test
// flows (tests/wf_flows.c) in wf_test_worker, a workflow worker of its own
// process; their activities are done by this package's Worker.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	cairn "cairn.dev/cairn"
	"cairn.dev/cairn/cairnpb"
)

// activity does the test flows' activities: "<what>:<input>"; reserve
// fails for good on an input that starts with "fail"; slow runs until its
// task is canceled.
func activity(ctx context.Context, j *cairn.Job) ([]byte, error) {
	in := string(j.Payload())
	switch j.Queue() {
	case "reserve":
		if strings.HasPrefix(in, "fail") {
			return nil, cairn.NonRetryable(errors.New("out of stock"))
		}
		return []byte("reserved:" + in), nil
	case "charge":
		return []byte("charged:" + in), nil
	case "slow":
		<-ctx.Done()
		return nil, context.Cause(ctx)
	}
	return []byte("shipped:" + in), nil
}

// wfWorkers starts the C workflow worker of the test flows (its order
// timer 50 ms) and a Go worker for their activities; both stop when t ends.
func wfWorkers(t *testing.T, url, dir string) {
	log, err := os.Create(filepath.Join(dir, "wf_test_worker.log"))
	if err != nil {
		t.Fatal(err)
	}
	flows := exec.Command(builtPath(t, "WF_TEST_WORKER", "tests/wf_test_worker"), url, "--timer", "50")
	flows.Stdout, flows.Stderr = log, log
	flows.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := flows.Start(); err != nil {
		t.Fatal(err)
	}
	log.Close()
	t.Cleanup(func() {
		_ = flows.Process.Signal(syscall.SIGTERM)
		_ = flows.Wait()
	})
	w := cairn.NewWorker(dial(t, url, nil), []string{"reserve", "charge", "ship", "slow"}, activity,
		cairn.WorkerOptions{Concurrency: 8, Wait: 500 * time.Millisecond})
	done := make(chan error, 1)
	go func() { done <- w.Run(bg) }()
	t.Cleanup(func() {
		w.Stop()
		if err := <-done; err != nil {
			t.Error("activity worker:", err)
		}
	})
}

// poll calls get until it answers ok, for up to 10 s.
func poll[T any](t *testing.T, what string, get func() (T, bool)) T {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if v, ok := get(); ok {
			return v
		}
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func entries(t *testing.T, c *cairn.Client, run cairn.Run, pageSize uint32) []*cairn.Entry {
	t.Helper()
	var log []*cairn.Entry
	for e, err := range c.WorkflowEntries(bg, run, pageSize) {
		if err != nil {
			t.Fatal(err)
		}
		log = append(log, e)
	}
	return log
}

// waiting returns the run's pending signal wait once its code reached it.
func waiting(t *testing.T, c *cairn.Client, run cairn.Run) *cairn.Entry {
	return poll(t, "the signal wait", func() (*cairn.Entry, bool) {
		for _, e := range entries(t, c, run, 0) {
			if e.Kind == cairnpb.EntryKind_ENTRY_KIND_SIGNAL && e.Status == cairnpb.EntryStatus_ENTRY_STATUS_PENDING {
				return e, true
			}
		}
		return nil, false
	})
}

func result(t *testing.T, c *cairn.Client, run cairn.Run) string {
	t.Helper()
	r, err := c.WorkflowResult(bg, run, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return string(r)
}

func TestWorkflows(t *testing.T) {
	srv := newServer(t, "tcp").start(nil, 0)
	c := dial(t, srv.URL, nil)
	start := func(typ, input string, o *cairn.StartWorkflowOptions) cairn.Run {
		t.Helper()
		run, _, err := c.StartWorkflow(bg, typ, []byte(input), o)
		if err != nil {
			t.Fatal(err)
		}
		return run
	}

	// First, while no workflow worker runs: the run cannot have reached
	// its wait, so the signal is kept in its inbox.
	wid := fmt.Sprintf("approval-%d", os.Getpid())
	var kept cairn.Run
	t.Run("DedupAndASignalBeforeTheWait", func(t *testing.T) {
		run, created, err := c.StartWorkflow(bg, "approval", []byte("book-1"), &cairn.StartWorkflowOptions{WorkflowID: wid})
		if err != nil || !created || run.ID == 0 || run.WorkflowID != wid {
			t.Fatal(run, created, err)
		}
		again, created, err := c.StartWorkflow(bg, "approval", []byte("book-2"), &cairn.StartWorkflowOptions{WorkflowID: wid})
		if err != nil || created || again != run {
			t.Fatal(again, created, err)
		}
		byID := cairn.Run{WorkflowID: wid}
		if seq, err := c.SignalWorkflow(bg, byID, "approve", []byte("express")); err != nil || seq != 0 {
			t.Fatal(seq, err)
		}
		got := must[*cairn.WorkflowRun](t)(c.GetWorkflow(bg, byID))
		if got.State != cairn.WorkflowRunning || string(got.Input) != "book-1" || got.Queue != cairn.DefaultWorkflowQueue {
			t.Fatal(got)
		}
		kept = run
	})
	if t.Failed() {
		return
	}

	wfWorkers(t, srv.URL, srv.dir)
	t.Run("TheWaitTakesTheKeptSignal", func(t *testing.T) {
		if r := result(t, c, cairn.Run{ID: kept.ID}); r != "approved:shipped:express" {
			t.Fatal(r)
		}
		var log []string
		for _, e := range entries(t, c, kept, 0) {
			log = append(log, fmt.Sprintf("%s %s %s %s", e.Kind, e.Name, e.Status, e.Result))
		}
		want := "ENTRY_KIND_ACTIVITY reserve ENTRY_STATUS_COMPLETED reserved:book-1," +
			"ENTRY_KIND_SIGNAL approve ENTRY_STATUS_COMPLETED express," +
			"ENTRY_KIND_ACTIVITY ship ENTRY_STATUS_COMPLETED shipped:express"
		if strings.Join(log, ",") != want {
			t.Fatal(log)
		}
		if _, err := c.SignalWorkflow(bg, kept, "approve", nil); !errors.Is(err, cairn.ErrFailedPrecondition) {
			t.Fatal("a signal to a finished run:", err)
		}
	})

	t.Run("ASignalCompletesAWait", func(t *testing.T) {
		run := start("approval", "book-3", nil)
		if run.WorkflowID == "" {
			t.Fatal("the server names the run")
		}
		wait := waiting(t, c, run)
		if seq, err := c.SignalWorkflow(bg, run, "approve", []byte("standard")); err != nil || seq != wait.Seq {
			t.Fatal(seq, wait.Seq, err)
		}
		if r := result(t, c, run); r != "approved:shipped:standard" {
			t.Fatal(r)
		}
	})

	t.Run("SucceedsWithHistoryPages", func(t *testing.T) {
		run := start("order", "o-1", &cairn.StartWorkflowOptions{WorkflowID: fmt.Sprintf("order-%d", os.Getpid())})
		if r := result(t, c, cairn.Run{WorkflowID: run.WorkflowID}); r != "reserved:o-1|charged:o-1|receipt:o-1|shipped:o-1" {
			t.Fatal(r)
		}
		p1 := must[*cairn.WorkflowHistoryPage](t)(c.WorkflowHistory(bg, run, 0, 2))
		if len(p1.Entries) != 2 || p1.Entries[0].Seq != 1 || p1.NextAfterSeq != 2 || p1.Run.State != cairn.WorkflowSucceeded {
			t.Fatal(p1)
		}
		p3 := must[*cairn.WorkflowHistoryPage](t)(c.WorkflowHistory(bg, run, 4, 2))
		if len(p3.Entries) != 1 || p3.Entries[0].Seq != 5 || p3.NextAfterSeq != 0 {
			t.Fatal(p3)
		}
		var names []string
		log := entries(t, c, run, 2)
		for _, e := range log {
			names = append(names, fmt.Sprintf("%d:%s:%s", e.Seq, strings.TrimPrefix(e.Kind.String(), "ENTRY_KIND_"), e.Name))
		}
		if strings.Join(names, " ") != "1:ACTIVITY:reserve 2:ACTIVITY:charge 3:STEP:receipt 4:TIMER: 5:ACTIVITY:ship" {
			t.Fatal(names)
		}
		if e := log[0]; string(e.Input) != "o-1" || e.Attempts != 1 || e.Queue != "reserve" {
			t.Fatal(e)
		}
		task := must[*cairn.Task](t)(c.Get(bg, log[0].TaskId))
		if task.State != cairn.Succeeded || string(task.Result) != "reserved:o-1" {
			t.Fatal(task)
		}
		got := must[*cairn.WorkflowRun](t)(c.GetWorkflow(bg, run))
		if got.State != cairn.WorkflowSucceeded || got.LogLength != 5 || got.FinishedAtMs == 0 {
			t.Fatal(got)
		}
	})

	t.Run("Fails", func(t *testing.T) {
		run := start("order", "fail-1", nil)
		_, err := c.WorkflowResult(bg, run, 10*time.Second)
		var we *cairn.WorkflowError
		if !errors.As(err, &we) || we.State() != cairn.WorkflowFailed || we.Run.RunId != run.ID ||
			we.Run.Error != "reserve failed: out of stock" || !errors.Is(err, cairn.ErrWorkflowFailed) ||
			errors.Is(err, cairn.ErrWorkflowCanceled) || !strings.Contains(err.Error(), "failed: reserve failed: out of stock") {
			t.Fatal(err)
		}
	})

	t.Run("CancelReachesARunningActivity", func(t *testing.T) {
		run := start("slow", "s-1", nil)
		act := poll(t, "the slow activity to run", func() (*cairn.Entry, bool) {
			p := must[*cairn.WorkflowHistoryPage](t)(c.WorkflowHistory(bg, run, 0, 0))
			if len(p.Entries) == 0 {
				return nil, false
			}
			task := must[*cairn.Task](t)(c.Get(bg, p.Entries[0].TaskId))
			return p.Entries[0], task.State == cairn.Active
		})
		for _, reason := range []string{"customer left", "again"} {
			if st, err := c.CancelWorkflow(bg, run, reason); err != nil || st != cairn.WorkflowRunning {
				t.Fatal(st, err)
			}
		}
		_, err := c.WorkflowResult(bg, run, 10*time.Second)
		var we *cairn.WorkflowError
		if !errors.As(err, &we) || !errors.Is(err, cairn.ErrWorkflowCanceled) || we.Run.Error != "canceled while slow ran" {
			t.Fatal(err)
		}
		if task := must[*cairn.Task](t)(c.Get(bg, act.TaskId)); task.State != cairn.Canceled {
			t.Fatal(task)
		}
	})

	t.Run("Terminate", func(t *testing.T) {
		run := start("approval", "book-4", nil)
		waiting(t, c, run)
		if st, err := c.TerminateWorkflow(bg, run, "wrong order"); err != nil || st != cairn.WorkflowTerminated {
			t.Fatal(st, err)
		}
		_, err := c.WorkflowResult(bg, run, time.Second)
		var we *cairn.WorkflowError
		if !errors.As(err, &we) || !errors.Is(err, cairn.ErrWorkflowTerminated) || we.Run.Error != "wrong order" {
			t.Fatal(err)
		}
		if _, err := c.SignalWorkflow(bg, run, "approve", nil); !errors.Is(err, cairn.ErrFailedPrecondition) {
			t.Fatal(err)
		}
	})

	t.Run("ATimeoutEndsFirst", func(t *testing.T) {
		run := start("approval", "book-5", nil)
		t0 := time.Now()
		_, err := c.WorkflowResult(bg, run, 300*time.Millisecond)
		took := time.Since(t0)
		if !errors.Is(err, cairn.ErrDeadlineExceeded) || !strings.Contains(err.Error(), "still running") ||
			took < 290*time.Millisecond || took > 3*time.Second {
			t.Fatal(took, err)
		}
		// A context's deadline ends the wait too.
		ctx, cancel := context.WithTimeout(bg, 200*time.Millisecond)
		defer cancel()
		if _, err := c.WorkflowResult(ctx, run, 0); cairn.CodeOf(err) != cairn.DeadlineExceeded {
			t.Fatal(err)
		}
		if r, done, err := c.AwaitWorkflow(bg, run, 0); err != nil || done || r.State != cairn.WorkflowRunning {
			t.Fatal(r, done, err)
		}
		_, _ = c.TerminateWorkflow(bg, run, "test over")
	})

	t.Run("ListFiltersAndPages", func(t *testing.T) {
		// A queue no workflow worker leases: the runs stay as started.
		q := queueName(t)
		var ids []uint64
		for i := 0; i < 3; i++ {
			ids = append(ids, start("approval", fmt.Sprint(i), &cairn.StartWorkflowOptions{Queue: q}).ID)
		}
		idsOf := func(runs []*cairn.WorkflowRun) string {
			var s []string
			for _, r := range runs {
				s = append(s, fmt.Sprint(r.RunId))
			}
			return strings.Join(s, ",")
		}
		want := func(i ...int) string {
			var s []string
			for _, k := range i {
				s = append(s, fmt.Sprint(ids[k]))
			}
			return strings.Join(s, ",")
		}
		runs, next, err := c.ListWorkflows(bg, cairn.WorkflowFilter{Queue: q}, 2, 0)
		if err != nil || idsOf(runs) != want(0, 1) || next != ids[1] {
			t.Fatal(idsOf(runs), next, err)
		}
		runs, next, err = c.ListWorkflows(bg, cairn.WorkflowFilter{Queue: q}, 2, next)
		if err != nil || idsOf(runs) != want(2) || next != 0 {
			t.Fatal(idsOf(runs), next, err)
		}
		var all []*cairn.WorkflowRun
		for r, err := range c.Workflows(bg, cairn.WorkflowFilter{Queue: q}, 1) {
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, r)
		}
		if idsOf(all) != want(0, 1, 2) {
			t.Fatal(idsOf(all))
		}
		_, _ = c.TerminateWorkflow(bg, cairn.Run{ID: ids[1]}, "filtered")
		for _, tc := range []struct {
			f    cairn.WorkflowFilter
			want string
		}{
			{cairn.WorkflowFilter{Queue: q, State: cairn.WorkflowTerminated}, want(1)},
			{cairn.WorkflowFilter{Queue: q, Type: "approval", State: cairn.WorkflowRunning}, want(0, 2)},
			{cairn.WorkflowFilter{Queue: q, Type: "order"}, ""},
			{cairn.WorkflowFilter{Queue: q, Stuck: true}, ""},
		} {
			if runs, _, err := c.ListWorkflows(bg, tc.f, 0, 0); err != nil || idsOf(runs) != tc.want {
				t.Fatal(tc.f, idsOf(runs), err)
			}
		}
	})

	t.Run("BadInput", func(t *testing.T) {
		for _, err := range []error{
			func() error { _, _, err := c.StartWorkflow(bg, "no spaces allowed", nil, nil); return err }(),
			func() error {
				_, _, err := c.StartWorkflow(bg, "order", nil, &cairn.StartWorkflowOptions{Queue: "bad queue"})
				return err
			}(),
			func() error { _, err := c.GetWorkflow(bg, cairn.Run{}); return err }(),
			func() error { _, err := c.SignalWorkflow(bg, cairn.Run{}, "approve", nil); return err }(),
			func() error { _, err := c.WorkflowResult(bg, cairn.Run{WorkflowID: "x"}, -time.Second); return err }(),
		} {
			if !errors.Is(err, cairn.ErrInvalidArgument) {
				t.Error(err)
			}
		}
		if _, err := c.GetWorkflow(bg, cairn.Run{WorkflowID: "no-such-workflow"}); !errors.Is(err, cairn.ErrNotFound) {
			t.Error(err)
		}
		if _, err := c.WorkflowResult(bg, cairn.Run{ID: 987654321}, 100*time.Millisecond); !errors.Is(err, cairn.ErrNotFound) {
			t.Error(err)
		}
	})
}
