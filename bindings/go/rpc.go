package cairn

import (
	"context"
	"time"

	"cairn.dev/cairn/cairnpb"
)

// The generated messages that calls take and return.
type (
	Task        = cairnpb.Task
	TaskSpec    = cairnpb.TaskSpec
	TaskState   = cairnpb.TaskState
	LeasedTask  = cairnpb.LeasedTask
	RetryPolicy = cairnpb.RetryPolicy
	QueueStats  = cairnpb.QueueStats
	// QueueSettings are a queue's limits and task defaults (SetQueue).
	QueueSettings = cairnpb.QueueSettings
	RateLimit     = cairnpb.RateLimit
	Event         = cairnpb.Event
)

// Task states.
const (
	AnyState  = cairnpb.TaskState_TASK_STATE_UNSPECIFIED
	Pending   = cairnpb.TaskState_PENDING
	Active    = cairnpb.TaskState_ACTIVE
	Succeeded = cairnpb.TaskState_SUCCEEDED
	Failed    = cairnpb.TaskState_FAILED
	Canceled  = cairnpb.TaskState_CANCELED
)

func ms(d time.Duration) int64 { return d.Milliseconds() }

// EnqueueOptions are a task's settings besides its queue and payload; the
// zero value takes the server's defaults.
type EnqueueOptions struct {
	Priority          int32
	Delay             time.Duration
	RunAt             time.Time // not before; wins over Delay
	MaxAttempts       uint32
	Retry             *RetryPolicy
	HeartbeatTimeout  time.Duration
	StartToCloseLimit time.Duration
	Key               string // idempotency key: one task per key and queue
}

// Spec builds the TaskSpec of a task, for EnqueueMany.
func Spec(queue string, payload []byte, o *EnqueueOptions) *TaskSpec {
	s := &TaskSpec{Queue: queue, Payload: payload}
	if o == nil {
		return s
	}
	s.Priority = o.Priority
	s.DelayMs = ms(o.Delay)
	if !o.RunAt.IsZero() {
		s.RunAtMs = o.RunAt.UnixMilli()
	}
	s.MaxAttempts = o.MaxAttempts
	s.Retry = o.Retry
	s.HeartbeatTimeoutMs = ms(o.HeartbeatTimeout)
	s.StartToCloseTimeoutMs = ms(o.StartToCloseLimit)
	s.IdempotencyKey = o.Key
	return s
}

// Enqueue adds one task and returns its id; created is false when the
// idempotency key already had a task (whose id it returns).
func (c *Client) Enqueue(ctx context.Context, queue string, payload []byte, o *EnqueueOptions) (id uint64, created bool, err error) {
	r, err := c.EnqueueMany(ctx, Spec(queue, payload, o))
	if err != nil {
		return 0, false, err
	}
	return r[0].Id, r[0].Created, nil
}

// EnqueueMany adds tasks atomically: all of them, or none.
func (c *Client) EnqueueMany(ctx context.Context, specs ...*TaskSpec) ([]*cairnpb.EnqueueResult, error) {
	var out cairnpb.EnqueueResponse
	if err := c.Call(ctx, "Enqueue", &cairnpb.EnqueueRequest{Tasks: specs}, &out, 0); err != nil {
		return nil, err
	}
	if len(out.Results) != len(specs) {
		return nil, errorf(Internal, "Enqueue", "%d results for %d tasks", len(out.Results), len(specs))
	}
	return out.Results, nil
}

// LeaseOptions: Max tasks (default 1), Wait for a long-poll, the worker's
// id, and a lease timeout that overrides the tasks' heartbeat timeout.
type LeaseOptions struct {
	Max          uint32
	Wait         time.Duration
	WorkerID     string
	LeaseTimeout time.Duration
	// ReleaseOnDisconnect binds the leases to this connection: the server
	// releases them soon after it closes, unless a heartbeat comes first.
	ReleaseOnDisconnect bool
}

// Lease takes due tasks of the queues; with Wait it waits for one that
// long, and an empty answer is not an error.
func (c *Client) Lease(ctx context.Context, queues []string, o LeaseOptions) ([]*LeasedTask, error) {
	var out cairnpb.LeaseResponse
	in := &cairnpb.LeaseRequest{Queues: queues, MaxTasks: o.Max, WaitMs: ms(o.Wait),
		WorkerId: o.WorkerID, LeaseTimeoutMs: ms(o.LeaseTimeout),
		ReleaseOnDisconnect: o.ReleaseOnDisconnect}
	if err := c.Call(ctx, "Lease", in, &out, o.Wait); err != nil {
		return nil, err
	}
	return out.Tasks, nil
}

// Heartbeat keeps a lease and records details (kept when not empty); it
// reports whether cancellation was requested, and the new deadline.
func (c *Client) Heartbeat(ctx context.Context, id uint64, token string, details []byte) (*cairnpb.HeartbeatResponse, error) {
	var out cairnpb.HeartbeatResponse
	err := c.Call(ctx, "Heartbeat", &cairnpb.HeartbeatRequest{Id: id, LeaseToken: token, Details: details}, &out, 0)
	return &out, err
}

// CompleteOptions: LeaseNext also leases the queue's next due task in the
// same commit (returned by Complete, nil when none was due).
type CompleteOptions struct {
	LeaseNext    bool
	WorkerID     string
	LeaseTimeout time.Duration
}

// Complete makes the task SUCCEEDED with result. Repeating a completion
// that took effect answers OK.
func (c *Client) Complete(ctx context.Context, id uint64, token string, result []byte, o *CompleteOptions) (next *LeasedTask, err error) {
	in := &cairnpb.CompleteRequest{Id: id, LeaseToken: token, Result: result}
	if o != nil {
		in.LeaseNext, in.WorkerId, in.LeaseTimeoutMs = o.LeaseNext, o.WorkerID, ms(o.LeaseTimeout)
	}
	var out cairnpb.CompleteResponse
	if err := c.Call(ctx, "Complete", in, &out, 0); err != nil {
		return nil, err
	}
	return out.Next, nil
}

// FailOptions: NonRetryable fails the task for good; RetryDelay overrides
// the backoff.
type FailOptions struct {
	NonRetryable bool
	RetryDelay   time.Duration
}

// Fail ends an attempt with an error: PENDING again after the backoff, or
// FAILED (or CANCELED when cancel was requested).
func (c *Client) Fail(ctx context.Context, id uint64, token, msg string, o *FailOptions) (*cairnpb.FailResponse, error) {
	in := &cairnpb.FailRequest{Id: id, LeaseToken: token, Error: msg}
	if o != nil {
		in.NonRetryable, in.RetryDelayMs = o.NonRetryable, ms(o.RetryDelay)
	}
	var out cairnpb.FailResponse
	err := c.Call(ctx, "Fail", in, &out, 0)
	return &out, err
}

// ReleaseOptions: Reason goes into the history; CountAttempt makes the
// release a retryable failure under the task's retry policy.
type ReleaseOptions struct {
	Reason       string
	CountAttempt bool
}

// Release gives a lease back without running the task: PENDING and due at
// once, the attempt not counted unless o.CountAttempt. It returns the
// task's new state.
func (c *Client) Release(ctx context.Context, id uint64, token string, o *ReleaseOptions) (TaskState, error) {
	in := &cairnpb.ReleaseRequest{Id: id, LeaseToken: token}
	if o != nil {
		in.Reason, in.CountAttempt = o.Reason, o.CountAttempt
	}
	var out cairnpb.ReleaseResponse
	err := c.Call(ctx, "Release", in, &out, 0)
	return out.State, err
}

// Cancel makes a PENDING task CANCELED (and returns CANCELED), or flags
// an ACTIVE one (and returns ACTIVE): its worker learns it by heartbeat.
func (c *Client) Cancel(ctx context.Context, id uint64) (TaskState, error) {
	var out cairnpb.CancelResponse
	err := c.Call(ctx, "Cancel", &cairnpb.CancelRequest{Id: id}, &out, 0)
	return out.State, err
}

// Retry puts a FAILED or CANCELED task back to PENDING.
func (c *Client) Retry(ctx context.Context, id uint64) (*Task, error) {
	var out cairnpb.RetryResponse
	err := c.Call(ctx, "Retry", &cairnpb.RetryRequest{Id: id}, &out, 0)
	return out.Task, err
}

// Get returns the whole task.
func (c *Client) Get(ctx context.Context, id uint64) (*Task, error) {
	var out cairnpb.GetResponse
	err := c.Call(ctx, "Get", &cairnpb.GetRequest{Id: id}, &out, 0)
	return out.Task, err
}

// List returns a page of a queue's tasks (state AnyState for all) and the
// afterID of the next page, 0 on the last.
func (c *Client) List(ctx context.Context, queue string, state TaskState, limit uint32, afterID uint64) ([]*Task, uint64, error) {
	var out cairnpb.ListResponse
	err := c.Call(ctx, "List", &cairnpb.ListRequest{Queue: queue, State: state, Limit: limit, AfterId: afterID}, &out, 0)
	return out.Tasks, out.NextAfterId, err
}

// Stats counts tasks per state, of one queue or ("") of every queue.
func (c *Client) Stats(ctx context.Context, queue string) ([]*QueueStats, error) {
	var out cairnpb.StatsResponse
	err := c.Call(ctx, "Stats", &cairnpb.StatsRequest{Queue: queue}, &out, 0)
	return out.Queues, err
}

// SetQueue changes a queue's settings: the fields named (paused,
// max_active, rate, max_attempts, retry, heartbeat_timeout_ms,
// start_to_close_timeout_ms), or all when none is; create configures a
// queue that has no tasks yet. It returns all of them after the change.
func (c *Client) SetQueue(ctx context.Context, s *QueueSettings, fields []string, create bool) (*QueueSettings, error) {
	var out cairnpb.SetQueueResponse
	err := c.Call(ctx, "SetQueue", &cairnpb.SetQueueRequest{Settings: s, Fields: fields, Create: create}, &out, 0)
	return out.Settings, err
}

// GetQueue returns a queue's settings (zero: none).
func (c *Client) GetQueue(ctx context.Context, queue string) (*QueueSettings, error) {
	var out cairnpb.GetQueueResponse
	err := c.Call(ctx, "GetQueue", &cairnpb.GetQueueRequest{Queue: queue}, &out, 0)
	return out.Settings, err
}

// ListQueues returns the settings of every configured queue.
func (c *Client) ListQueues(ctx context.Context) ([]*QueueSettings, error) {
	var out cairnpb.ListQueuesResponse
	err := c.Call(ctx, "ListQueues", &cairnpb.ListQueuesRequest{}, &out, 0)
	return out.Queues, err
}

// Await waits up to wait for the task to end; done is false when the wait
// ended first.
func (c *Client) Await(ctx context.Context, id uint64, wait time.Duration) (t *Task, done bool, err error) {
	var out cairnpb.AwaitResponse
	err = c.Call(ctx, "Await", &cairnpb.AwaitRequest{Id: id, WaitMs: ms(wait)}, &out, wait)
	return out.Task, out.Done, err
}

// History lists the task's events: enqueued, leased, heartbeat, ...
func (c *Client) History(ctx context.Context, id uint64) ([]*Event, error) {
	var out cairnpb.HistoryResponse
	err := c.Call(ctx, "History", &cairnpb.HistoryRequest{Id: id}, &out, 0)
	return out.Events, err
}

// Ping returns the server's clock and version.
func (c *Client) Ping(ctx context.Context) (*cairnpb.PingResponse, error) {
	var out cairnpb.PingResponse
	err := c.Call(ctx, "Ping", &cairnpb.PingRequest{}, &out, 0)
	return &out, err
}

// CompleteBatch completes many tasks in one commit, with a result each: an
// item whose lease is lost is refused on its own.
func (c *Client) CompleteBatch(ctx context.Context, items []*cairnpb.CompleteRequest) ([]*cairnpb.BatchResult, error) {
	var out cairnpb.CompleteBatchResponse
	err := c.Call(ctx, "CompleteBatch", &cairnpb.CompleteBatchRequest{Tasks: items}, &out, 0)
	return out.Results, err
}

// HeartbeatBatch heartbeats many tasks in one commit, with a result each.
func (c *Client) HeartbeatBatch(ctx context.Context, items []*cairnpb.HeartbeatRequest) ([]*cairnpb.HeartbeatBatchResult, error) {
	var out cairnpb.HeartbeatBatchResponse
	err := c.Call(ctx, "HeartbeatBatch", &cairnpb.HeartbeatBatchRequest{Tasks: items}, &out, 0)
	return out.Results, err
}

// Backup writes an online copy of the store in the server's backup
// directory (cairnd --backup-dir).
func (c *Client) Backup(ctx context.Context, file string) (*cairnpb.BackupResponse, error) {
	var out cairnpb.BackupResponse
	err := c.Call(ctx, "Backup", &cairnpb.BackupRequest{File: file}, &out, 0)
	return &out, err
}
