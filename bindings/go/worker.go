package cairn

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// Job is one leased task as a handler sees it.
type Job struct {
	*LeasedTask
	c *Client
}

// ID, Payload and Attempt (1 for the first) of the task.
func (j *Job) ID() uint64      { return j.Task.Id }
func (j *Job) Payload() []byte { return j.Task.Payload }
func (j *Job) Attempt() uint32 { return j.Task.Attempt }
func (j *Job) Queue() string   { return j.Task.Queue }
func (j *Job) Details() []byte { return j.Task.Details } // previous attempt's last heartbeat
func (j *Job) Client() *Client { return j.c }
func (j *Job) String() string {
	return fmt.Sprintf("task %d (%s, attempt %d)", j.ID(), j.Queue(), j.Attempt())
}

// Handler runs one task. Its context is cancelled when the task is
// canceled or its lease is lost (context.Cause says which): stop then. The
// returned bytes are the result; an error fails the attempt (retried under
// the task's policy), and an error wrapped by NonRetryable fails the task
// for good.
type Handler func(ctx context.Context, job *Job) ([]byte, error)

type nonRetryable struct{ err error }

func (e nonRetryable) Error() string { return e.err.Error() }
func (e nonRetryable) Unwrap() error { return e.err }

// NonRetryable marks err so that the worker fails the task without retries.
func NonRetryable(err error) error { return nonRetryable{err} }

// ErrTaskCanceled is the cause of a handler's cancelled context when the
// task was canceled (a lost lease's is the *Error of the refusal).
var ErrTaskCanceled = errors.New("cairn: the task was canceled")

// WorkerOptions tune a Worker; the zero value runs one handler at a time.
type WorkerOptions struct {
	Concurrency  int           // handlers at once (default 1)
	Wait         time.Duration // one Lease long-poll (default 5 s); Stop may wait that long
	LeaseTimeout time.Duration // overrides the tasks' heartbeat timeout
	WorkerID     string        // default host:pid
	// OnError hears the errors the worker goes on after (an rpc that
	// failed and is tried again, a lost lease); may be nil.
	OnError func(job *Job, err error)
}

// Worker leases tasks of some queues and runs a handler for each:
// Concurrency at once, each heartbeated in the background when a third of
// its lease's remaining time has passed. A completion also leases the
// queue's next due task in the same request, so a busy queue costs one
// round trip per task.
type Worker struct {
	c       *Client
	queues  []string
	handler Handler
	o       WorkerOptions
	offset  time.Duration // server clock minus ours

	stopOnce sync.Once
	stopping chan struct{}
}

// NewWorker makes a worker; Run starts it.
func NewWorker(c *Client, queues []string, h Handler, o WorkerOptions) *Worker {
	if o.Concurrency <= 0 {
		o.Concurrency = 1
	}
	if o.Wait <= 0 {
		o.Wait = 5 * time.Second
	}
	if o.WorkerID == "" {
		host, _ := os.Hostname()
		o.WorkerID = fmt.Sprintf("%s:%d", host, os.Getpid())
	}
	return &Worker{c: c, queues: queues, handler: h, o: o, stopping: make(chan struct{})}
}

// Stop asks Run to stop leasing; Run returns once the running handlers
// have finished and their tasks are reported.
func (w *Worker) Stop() { w.stopOnce.Do(func() { close(w.stopping) }) }

func (w *Worker) stopped() bool {
	select {
	case <-w.stopping:
		return true
	default:
		return false
	}
}

// fatal errors end Run: leasing again cannot cure them.
func fatal(err error) bool {
	switch CodeOf(err) {
	case InvalidArgument, Unauthenticated, PermissionDenied, Unimplemented, FailedPrecondition:
		return true
	}
	return false
}

// Run works until ctx is cancelled or Stop is called, then stops leasing,
// lets the running handlers finish and returns nil; it returns an error
// that leasing again cannot cure (a bad token, a bad queue name) at once.
func (w *Worker) Run(ctx context.Context) error {
	context.AfterFunc(ctx, w.Stop)
	t0 := time.Now()
	p, err := w.c.Ping(ctx)
	if err != nil {
		return err
	}
	w.offset = time.UnixMilli(p.ServerTimeMs).Sub(t0.Add(time.Since(t0) / 2))

	slots := make(chan struct{}, w.o.Concurrency)
	var running sync.WaitGroup
	defer running.Wait()
	backoff := 100 * time.Millisecond
	for !w.stopped() {
		// Wait for a free slot, then lease for every free one.
		select {
		case slots <- struct{}{}:
		case <-w.stopping:
			return nil
		}
		free := 1
	more:
		for free < w.o.Concurrency {
			select {
			case slots <- struct{}{}:
				free++
			default:
				break more
			}
		}
		// The poll is not cancelled by Stop: the tasks it may lease are
		// ours, and are run.
		// Bound to the connection: a worker that dies gives its tasks
		// back within the server's grace period.
		tasks, err := w.c.Lease(context.Background(), w.queues, LeaseOptions{Max: uint32(free),
			Wait: w.o.Wait, WorkerID: w.o.WorkerID, LeaseTimeout: w.o.LeaseTimeout,
			ReleaseOnDisconnect: true})
		for i := len(tasks); i < free; i++ {
			<-slots
		}
		if err != nil {
			if fatal(err) {
				return err
			}
			w.report(nil, err)
			select {
			case <-time.After(backoff):
			case <-w.stopping:
			}
			backoff = min(backoff*2, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		for _, t := range tasks {
			running.Add(1)
			go func(j *Job) {
				defer running.Done()
				defer func() { <-slots }()
				for j != nil {
					j = w.runOne(j)
				}
			}(&Job{LeasedTask: t, c: w.c})
		}
	}
	return nil
}

func (w *Worker) report(j *Job, err error) {
	if w.o.OnError != nil {
		w.o.OnError(j, err)
	}
}

// runOne runs the handler, reports the outcome and returns the next task
// that the completion leased, if any.
func (w *Worker) runOne(j *Job) *Job {
	ctx, cancel := context.WithCancelCause(context.Background())
	beats := w.heartbeats(ctx, cancel, j)
	result, herr := w.safeHandle(ctx, j)
	cancel(nil)
	<-beats
	if herr == nil {
		var next *LeasedTask
		ok := w.retrying(j, func() error {
			var err error
			next, err = w.c.Complete(context.Background(), j.ID(), j.LeaseToken, result, &CompleteOptions{
				LeaseNext: !w.stopped(), WorkerID: w.o.WorkerID, LeaseTimeout: w.o.LeaseTimeout})
			return err
		})
		if ok && next != nil {
			return &Job{LeasedTask: next, c: w.c}
		}
		return nil
	}
	var nr nonRetryable
	w.retrying(j, func() error {
		_, err := w.c.Fail(context.Background(), j.ID(), j.LeaseToken, herr.Error(),
			&FailOptions{NonRetryable: errors.As(herr, &nr)})
		return err
	})
	return nil
}

// safeHandle runs the handler, turning a panic into an error.
func (w *Worker) safeHandle(ctx context.Context, j *Job) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return w.handler(ctx, j)
}

// retrying makes a Complete or Fail, again after an error that a later try
// may not meet (repeating one that took effect answers OK).
func (w *Worker) retrying(j *Job, call func() error) bool {
	for i := 1; ; i++ {
		err := call()
		if err == nil {
			return true
		}
		w.report(j, err)
		if IsLeaseLost(err) || fatal(err) || i >= 4 {
			return false
		}
		time.Sleep(time.Duration(i) * 100 * time.Millisecond)
	}
}

// heartbeats keeps j's lease until ctx ends; it cancels the handler's
// context when the task is canceled or the lease is lost. The returned
// channel closes when it has stopped.
func (w *Worker) heartbeats(ctx context.Context, cancel context.CancelCauseFunc, j *Job) <-chan struct{} {
	done := make(chan struct{})
	deadline := j.DeadlineMs
	go func() {
		defer close(done)
		for {
			left := time.UnixMilli(deadline).Sub(time.Now().Add(w.offset))
			select {
			case <-ctx.Done():
				return
			case <-time.After(max(left/3, 10*time.Millisecond)):
			}
			r, err := w.c.Heartbeat(ctx, j.ID(), j.LeaseToken, nil)
			switch {
			case err == nil:
				deadline = r.DeadlineMs
				if r.CancelRequested {
					cancel(ErrTaskCanceled)
				}
			case IsLeaseLost(err):
				w.report(j, err)
				cancel(err)
				return
			case ctx.Err() == nil:
				w.report(j, err)
			}
		}
	}()
	return done
}
