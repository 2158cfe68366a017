package cairn

// Durable workflows (proto/README.md, "Durable workflows"): start, signal,
// cancel, terminate, inspect and await runs. Workflow code itself (the
// function a workflow worker replays) is written in C or Python today; Go
// starts, steers and inspects runs, and its Worker serves their
// activities, which are ordinary tasks.

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"cairn.dev/cairn/cairnpb"
)

// The generated messages of the workflow calls.
type (
	WorkflowRun         = cairnpb.WorkflowRun
	WorkflowState       = cairnpb.WorkflowState
	Entry               = cairnpb.Entry
	EntryKind           = cairnpb.EntryKind
	EntryStatus         = cairnpb.EntryStatus
	WorkflowHistoryPage = cairnpb.WorkflowHistoryResponse
)

// Run states.
const (
	AnyWorkflowState   = cairnpb.WorkflowState_WORKFLOW_STATE_UNSPECIFIED
	WorkflowRunning    = cairnpb.WorkflowState_WORKFLOW_STATE_RUNNING
	WorkflowSucceeded  = cairnpb.WorkflowState_WORKFLOW_STATE_SUCCEEDED
	WorkflowFailed     = cairnpb.WorkflowState_WORKFLOW_STATE_FAILED
	WorkflowCanceled   = cairnpb.WorkflowState_WORKFLOW_STATE_CANCELED
	WorkflowTerminated = cairnpb.WorkflowState_WORKFLOW_STATE_TERMINATED
)

// DefaultWorkflowQueue is the workflow queue of a run started without one.
const DefaultWorkflowQueue = "workflows"

// Run names a run: by ID, or by WorkflowID when ID is 0. StartWorkflow
// returns one with both.
type Run struct {
	ID         uint64
	WorkflowID string
}

func (r Run) String() string {
	if r.ID != 0 {
		return fmt.Sprintf("run %d", r.ID)
	}
	return fmt.Sprintf("run %q", r.WorkflowID)
}

func (r Run) check(method string) error {
	if r.ID == 0 && r.WorkflowID == "" {
		return errorf(InvalidArgument, method, "name a run by its ID or its WorkflowID")
	}
	return nil
}

// StartWorkflowOptions: WorkflowID is yours, unique while the run is
// kept (empty: the server makes one up); Queue is where its workflow
// worker leases it (empty: DefaultWorkflowQueue).
type StartWorkflowOptions struct {
	WorkflowID string
	Queue      string
}

// StartWorkflow starts a run of the workflow type with input. A
// WorkflowID that already has a run starts nothing: it returns that run
// with created false.
func (c *Client) StartWorkflow(ctx context.Context, typ string, input []byte, o *StartWorkflowOptions) (run Run, created bool, err error) {
	in := &cairnpb.StartWorkflowRequest{Type: typ, Input: input, Queue: DefaultWorkflowQueue}
	if o != nil {
		in.WorkflowId = o.WorkflowID
		if o.Queue != "" {
			in.Queue = o.Queue
		}
	}
	var out cairnpb.StartWorkflowResponse
	if err := c.Call(ctx, "StartWorkflow", in, &out, 0); err != nil {
		return Run{}, false, err
	}
	return Run{ID: out.RunId, WorkflowID: out.WorkflowId}, out.Created, nil
}

// SignalWorkflow sends the signal name to the run. It completes the run's
// oldest wait for that name (deliveredSeq is that entry), or is kept in
// the run's inbox for its next wait (deliveredSeq 0). A finished run
// refuses it with FailedPrecondition.
func (c *Client) SignalWorkflow(ctx context.Context, run Run, name string, payload []byte) (deliveredSeq uint32, err error) {
	if err := run.check("SignalWorkflow"); err != nil {
		return 0, err
	}
	var out cairnpb.SignalWorkflowResponse
	err = c.Call(ctx, "SignalWorkflow", &cairnpb.SignalWorkflowRequest{RunId: run.ID,
		WorkflowId: run.WorkflowID, Name: name, Payload: payload}, &out, 0)
	return out.DeliveredSeq, err
}

// CancelWorkflow asks the run to wind down: its waits end canceled and its
// code decides how to finish. It returns the run's state (WorkflowRunning
// while it winds down); repeating it changes nothing.
func (c *Client) CancelWorkflow(ctx context.Context, run Run, reason string) (WorkflowState, error) {
	if err := run.check("CancelWorkflow"); err != nil {
		return AnyWorkflowState, err
	}
	var out cairnpb.CancelWorkflowResponse
	err := c.Call(ctx, "CancelWorkflow", &cairnpb.CancelWorkflowRequest{RunId: run.ID,
		WorkflowId: run.WorkflowID, Reason: reason}, &out, 0)
	return out.State, err
}

// TerminateWorkflow ends the run at once as WorkflowTerminated, with
// reason as its error.
func (c *Client) TerminateWorkflow(ctx context.Context, run Run, reason string) (WorkflowState, error) {
	if err := run.check("TerminateWorkflow"); err != nil {
		return AnyWorkflowState, err
	}
	var out cairnpb.TerminateWorkflowResponse
	err := c.Call(ctx, "TerminateWorkflow", &cairnpb.TerminateWorkflowRequest{RunId: run.ID,
		WorkflowId: run.WorkflowID, Reason: reason}, &out, 0)
	return out.State, err
}

// GetWorkflow returns the run as the server has it now.
func (c *Client) GetWorkflow(ctx context.Context, run Run) (*WorkflowRun, error) {
	if err := run.check("GetWorkflow"); err != nil {
		return nil, err
	}
	var out cairnpb.GetWorkflowResponse
	if err := c.Call(ctx, "GetWorkflow", &cairnpb.GetWorkflowRequest{RunId: run.ID,
		WorkflowId: run.WorkflowID}, &out, 0); err != nil {
		return nil, err
	}
	return out.Run, nil
}

// WorkflowFilter keeps the runs of a type, a state, a queue, or (Stuck)
// those whose code could not be replayed; zero fields keep every run.
type WorkflowFilter struct {
	Type  string
	State WorkflowState
	Queue string
	Stuck bool
}

// ListWorkflows returns up to limit runs (0: the server's default, 100)
// that pass f, with run IDs above after, in ID order, and the after of the
// next page (0 on the last).
func (c *Client) ListWorkflows(ctx context.Context, f WorkflowFilter, limit uint32, after uint64) ([]*WorkflowRun, uint64, error) {
	var out cairnpb.ListWorkflowsResponse
	err := c.Call(ctx, "ListWorkflows", &cairnpb.ListWorkflowsRequest{Type: f.Type, State: f.State,
		Queue: f.Queue, Stuck: f.Stuck, Limit: limit, AfterRunId: after}, &out, 0)
	return out.Runs, out.NextAfterRunId, err
}

// Workflows ranges over every run that passes f, a page of pageSize (0:
// the server's default) at a time; an error ends the range.
func (c *Client) Workflows(ctx context.Context, f WorkflowFilter, pageSize uint32) iter.Seq2[*WorkflowRun, error] {
	return func(yield func(*WorkflowRun, error) bool) {
		var after uint64
		for {
			runs, next, err := c.ListWorkflows(ctx, f, pageSize, after)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, r := range runs {
				if !yield(r, nil) {
					return
				}
			}
			if next == 0 {
				return
			}
			after = next
		}
	}
}

// WorkflowHistory returns a page of the run's log with inputs, and per
// activity the attempts of its task: up to limit entries (0: the server's
// default, 1000) after afterSeq. The page's NextAfterSeq is the next
// page's afterSeq, 0 on the last.
func (c *Client) WorkflowHistory(ctx context.Context, run Run, afterSeq, limit uint32) (*WorkflowHistoryPage, error) {
	if err := run.check("WorkflowHistory"); err != nil {
		return nil, err
	}
	var out cairnpb.WorkflowHistoryResponse
	if err := c.Call(ctx, "WorkflowHistory", &cairnpb.WorkflowHistoryRequest{RunId: run.ID,
		WorkflowId: run.WorkflowID, AfterSeq: afterSeq, Limit: limit}, &out, 0); err != nil {
		return nil, err
	}
	return &out, nil
}

// WorkflowEntries ranges over the run's whole log, a page of pageSize (0:
// the server's default) at a time; an error ends the range.
func (c *Client) WorkflowEntries(ctx context.Context, run Run, pageSize uint32) iter.Seq2[*Entry, error] {
	return func(yield func(*Entry, error) bool) {
		var after uint32
		for {
			page, err := c.WorkflowHistory(ctx, run, after, pageSize)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, e := range page.Entries {
				if !yield(e, nil) {
					return
				}
			}
			if page.NextAfterSeq == 0 {
				return
			}
			after = page.NextAfterSeq
		}
	}
}

// AwaitWorkflow waits up to wait (one long-poll) for the run to finish;
// done is false when the wait ended first.
func (c *Client) AwaitWorkflow(ctx context.Context, run Run, wait time.Duration) (r *WorkflowRun, done bool, err error) {
	if err := run.check("AwaitWorkflow"); err != nil {
		return nil, false, err
	}
	var out cairnpb.AwaitWorkflowResponse
	err = c.Call(ctx, "AwaitWorkflow", &cairnpb.AwaitWorkflowRequest{RunId: run.ID,
		WorkflowId: run.WorkflowID, WaitMs: ms(wait)}, &out, wait)
	return out.Run, out.Done, err
}

// One AwaitWorkflow long-poll of WorkflowResult waits at most this long:
// below cairnd's --max-wait default (60 s), so that the server's cap, not
// the call's own time limit, ends a slice.
const awaitSlice = 30 * time.Second

// WorkflowResult waits until the run has finished, long-polling for up to
// timeout (0: until ctx ends), and returns its result. A run that failed,
// was canceled or was terminated gives a *WorkflowError; a timeout or a
// deadline of ctx that comes first, an *Error of DeadlineExceeded.
func (c *Client) WorkflowResult(ctx context.Context, run Run, timeout time.Duration) ([]byte, error) {
	if timeout < 0 {
		return nil, errorf(InvalidArgument, "AwaitWorkflow", "timeout %v: not a duration", timeout)
	}
	start := time.Now()
	var end time.Time
	if timeout > 0 {
		end = time.Now().Add(timeout)
	}
	if d, ok := ctx.Deadline(); ok && (end.IsZero() || d.Before(end)) {
		end = d
	}
	for {
		wait := awaitSlice
		if !end.IsZero() {
			wait = max(0, min(wait, time.Until(end)))
		}
		r, done, err := c.AwaitWorkflow(ctx, run, wait)
		if err != nil {
			return nil, err
		}
		if done {
			if r.State == WorkflowSucceeded {
				return r.Result, nil
			}
			return nil, &WorkflowError{Run: r}
		}
		if !end.IsZero() && !time.Now().Before(end) {
			return nil, errorf(DeadlineExceeded, "AwaitWorkflow",
				"workflow run %d (%s) is still running after %v", r.RunId, r.WorkflowId,
				time.Since(start).Round(time.Millisecond))
		}
	}
}

// WorkflowError is the error of a run that ended without succeeding:
// Run is the run as it ended; its State says how (WorkflowFailed,
// WorkflowCanceled, WorkflowTerminated) and its Error why. errors.Is
// matches ErrWorkflowFailed, ErrWorkflowCanceled or ErrWorkflowTerminated
// by its state.
type WorkflowError struct {
	Run *WorkflowRun
}

func (e *WorkflowError) Error() string {
	state := strings.ToLower(strings.TrimPrefix(e.Run.State.String(), "WORKFLOW_STATE_"))
	msg := fmt.Sprintf("cairn: workflow run %d (%s) %s", e.Run.RunId, e.Run.WorkflowId, state)
	if e.Run.Error != "" {
		msg += ": " + e.Run.Error
	}
	return msg
}

// State is how the run ended.
func (e *WorkflowError) State() WorkflowState { return e.Run.State }

func (e *WorkflowError) Is(target error) bool {
	switch target {
	case ErrWorkflowFailed:
		return e.Run.State == WorkflowFailed
	case ErrWorkflowCanceled:
		return e.Run.State == WorkflowCanceled
	case ErrWorkflowTerminated:
		return e.Run.State == WorkflowTerminated
	}
	return false
}

// Values to compare a *WorkflowError with errors.Is, one per way a run
// ends without succeeding.
var (
	ErrWorkflowFailed     = errors.New("cairn: the workflow run failed")
	ErrWorkflowCanceled   = errors.New("cairn: the workflow run was canceled")
	ErrWorkflowTerminated = errors.New("cairn: the workflow run was terminated")
)
