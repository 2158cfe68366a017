/*
 * cairn.h - the C client of the Cairn job-queue server.
 *
 * The API hides the wire (protobuf over nng REQ/REP). A client handle is
 * thread-safe: many threads may call through one handle at once. Every call
 * returns a cairn_status; on failure the server's or the library's message
 * for the calling thread's last failed call is cairn_client_errmsg().
 *
 * Ownership: memory this library hands out (tasks, lists, strings) is freed
 * with the matching cairn_*_free() function, never with free(); freeing NULL
 * is a no-op. Strings and buffers passed in are copied before the call
 * returns; the caller keeps them.
 */
#ifndef CAIRN_H
#define CAIRN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The status codes, task states and durations that the server shares. */
#include "cairn_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cairn_client cairn_client;

/* Options for cairn_client_open; zero means the default. */
typedef struct cairn_client_options {
	const char *token;  /* auth token sent with every request */
	int64_t timeout_ms; /* per call, default 10000; long-polls add
	                       their wait to it */
	bool lazy_connect;  /* true: open succeeds while the server is
	                       unreachable and connects in the background */
	/* tls+tcp:// only; PEM files. The server's certificate is always
	 * verified. */
	const char *tls_ca_file;     /* CAs to trust; NULL: the system's
	                                /etc/ssl/certs/ca-certificates.crt */
	const char *tls_cert_file;   /* client certificate, for servers that
	                                require one; with tls_key_file */
	const char *tls_key_file;    /* its private key */
	const char *tls_server_name; /* name the server's certificate must
	                                carry; NULL: the URL's host */
} cairn_client_options;

/*
 * cairn_client_open connects to url (tcp://host:port, ipc://path,
 * tls+tcp://...). Unless opts->lazy_connect is set, it fails with
 * CAIRN_UNAVAILABLE when the server cannot be reached; after that the
 * connection is kept up in the background (a lost server makes calls fail
 * with CAIRN_DEADLINE_EXCEEDED until it is back). opts may be NULL. On
 * success *out owns a handle to close with cairn_client_close. On failure
 * returns a status and, if errbuf is not NULL, a message in it.
 */
CAIRN_API int cairn_client_open(cairn_client **out, const char *url,
    const cairn_client_options *opts, char *errbuf, size_t errlen);

/* cairn_client_close closes the handle; NULL is a no-op. No call may be
 * in progress on it. */
CAIRN_API void cairn_client_close(cairn_client *c);

/* cairn_client_errmsg returns the message of the calling thread's last
 * failed call on c ("" if none). Valid until that thread's next call. */
CAIRN_API const char *cairn_client_errmsg(const cairn_client *c);

/* cairn_client_set_timeout changes the per-call timeout (milliseconds). */
CAIRN_API void cairn_client_set_timeout(cairn_client *c, int64_t timeout_ms);

/* A task to enqueue. Zero fields take the server's defaults. */
typedef struct cairn_task_spec {
	const char *queue;
	const void *payload;
	size_t payload_len;
	int32_t priority;
	int64_t delay_ms;
	int64_t run_at_ms; /* absolute, wins over delay_ms */
	uint32_t max_attempts;
	int64_t heartbeat_timeout_ms;
	int64_t start_to_close_timeout_ms;
	const char *idempotency_key; /* NULL: none */
	int64_t retry_initial_backoff_ms;
	double retry_multiplier;
	int64_t retry_max_backoff_ms;
} cairn_task_spec;

typedef struct cairn_enqueue_result {
	uint64_t id;
	bool created; /* false: a task with the key existed */
} cairn_enqueue_result;

/* A task as the server reports it. Free with cairn_task_free. */
typedef struct cairn_task {
	uint64_t id;
	char *queue;
	uint8_t *payload;
	size_t payload_len;
	int32_t priority;
	cairn_state state;
	int64_t run_at_ms;
	uint32_t attempt;
	uint32_t max_attempts;
	int64_t retry_initial_backoff_ms;
	double retry_multiplier;
	int64_t retry_max_backoff_ms;
	int64_t heartbeat_timeout_ms;
	int64_t start_to_close_timeout_ms;
	char *idempotency_key; /* "" if none */
	uint8_t *details;      /* last heartbeat details */
	size_t details_len;
	uint8_t *result;
	size_t result_len;
	char *last_error;
	bool cancel_requested;
	char *worker_id;
	int64_t lease_deadline_ms;
	int64_t created_at_ms;
	int64_t updated_at_ms;
	int64_t finished_at_ms;
	/* Set by cairn_lease only: */
	char *lease_token;
} cairn_task;

/* cairn_task_free frees a task; NULL is a no-op. */
CAIRN_API void cairn_task_free(cairn_task *t);

/* cairn_tasks_free frees an array of n tasks returned by the library. */
CAIRN_API void cairn_tasks_free(cairn_task **tasks, size_t n);

/* cairn_free frees other memory handed out by the library. */
CAIRN_API void cairn_free(void *p);

/*
 * cairn_enqueue submits n tasks atomically (all or none) and writes one
 * result per task into results (an array of n supplied by the caller).
 */
CAIRN_API int cairn_enqueue(cairn_client *c, const cairn_task_spec *specs,
    size_t n, cairn_enqueue_result *results);

/* Options for cairn_lease; zero means the default. */
typedef struct cairn_lease_options {
	uint32_t max_tasks;       /* default 1 */
	int64_t wait_ms;          /* long-poll; 0 answers at once */
	const char *worker_id;    /* shown in history; default host:pid */
	int64_t lease_timeout_ms; /* overrides the heartbeat timeout */
	/* Bind the leases to this client's connection: when it closes (the
	 * process died), the server releases them after its grace period
	 * unless a heartbeat comes first. The worker helper sets it. */
	bool release_on_disconnect;
} cairn_lease_options;

/*
 * cairn_lease leases due tasks from one or more queues. On success
 * *tasks is an array of *n tasks (each with lease_token set), owned by the
 * caller and freed with cairn_tasks_free; *n may be 0 (nothing due). opts
 * may be NULL.
 */
CAIRN_API int cairn_lease(cairn_client *c, const char *const *queues,
    size_t nqueues, const cairn_lease_options *opts, cairn_task ***tasks,
    size_t *n);

/*
 * cairn_heartbeat extends the lease of task id and keeps details when
 * details_len > 0. *cancel_requested (may be NULL) tells the worker to
 * stop; *deadline_ms (may be NULL) is the new deadline. A lost lease gives
 * CAIRN_FAILED_PRECONDITION.
 */
CAIRN_API int cairn_heartbeat(cairn_client *c, uint64_t id,
    const char *lease_token, const void *details, size_t details_len,
    bool *cancel_requested, int64_t *deadline_ms);

/* cairn_complete marks task id SUCCEEDED with result. Repeating a
 * complete that took effect returns CAIRN_OK. */
CAIRN_API int cairn_complete(cairn_client *c, uint64_t id,
    const char *lease_token, const void *result, size_t result_len);

/*
 * cairn_fail fails the current attempt. retryable false, or attempts used
 * up, makes the task FAILED; otherwise it is PENDING again after the backoff
 * (or retry_delay_ms when > 0). *state (may be NULL) is the task's new
 * state; *run_at_ms (may be NULL) its next attempt.
 */
CAIRN_API int cairn_fail(cairn_client *c, uint64_t id, const char *lease_token,
    const char *error, bool retryable, int64_t retry_delay_ms,
    cairn_state *state, int64_t *run_at_ms);

/*
 * cairn_release gives a lease back without running the task (a worker
 * shutting down): the task is PENDING and due at once, its attempt not
 * counted, or with count_attempt a retryable failure under its retry
 * policy. reason (may be NULL) goes into the history. *state (may be
 * NULL) is the task's new state. Repeating a release that took effect
 * returns CAIRN_OK.
 */
CAIRN_API int cairn_release(cairn_client *c, uint64_t id,
    const char *lease_token, const char *reason, bool count_attempt,
    cairn_state *state);

/* cairn_cancel cancels a PENDING task at once, or flags an ACTIVE one.
 * *state (may be NULL) is CAIRN_CANCELED or CAIRN_ACTIVE. */
CAIRN_API int cairn_cancel(cairn_client *c, uint64_t id, cairn_state *state);

/* cairn_retry puts a FAILED or CANCELED task back to PENDING with a fresh
 * attempt budget. *task (may be NULL) is the task after the change. */
CAIRN_API int cairn_retry(cairn_client *c, uint64_t id, cairn_task **task);

/* cairn_get returns task id in *task (free with cairn_task_free). */
CAIRN_API int cairn_get(cairn_client *c, uint64_t id, cairn_task **task);

/*
 * cairn_list returns up to limit tasks of queue (state CAIRN_STATE_ANY for
 * all) with id > after_id, in id order. *next_after_id is the page token for
 * the next call, 0 on the last page. Free *tasks with cairn_tasks_free.
 */
CAIRN_API int cairn_list(cairn_client *c, const char *queue, cairn_state state,
    uint32_t limit, uint64_t after_id, cairn_task ***tasks, size_t *n,
    uint64_t *next_after_id);

typedef struct cairn_queue_stats {
	char *queue;
	uint64_t pending;
	uint64_t active;
	uint64_t succeeded;
	uint64_t failed;
	uint64_t canceled;
	uint64_t due;
	int64_t oldest_due_age_ms;
} cairn_queue_stats;

/* cairn_stats returns counts per queue (queue NULL or "" for all) as an
 * array of *n, freed with cairn_stats_free. */
CAIRN_API int cairn_stats(
    cairn_client *c, const char *queue, cairn_queue_stats **stats, size_t *n);
CAIRN_API void cairn_stats_free(cairn_queue_stats *stats, size_t n);

/*
 * Per-queue settings: limits that the queue's leases obey and defaults of
 * the tasks enqueued into it without their own values. Zero means "no
 * limit" or "the server's default". Free with cairn_queue_settings_free.
 */
typedef struct cairn_queue_settings {
	char *queue;
	bool paused;         /* leases take nothing; enqueues go on */
	uint32_t max_active; /* ACTIVE tasks at most */
	uint32_t rate_count; /* tasks leased per rate_interval_ms */
	int64_t rate_interval_ms;
	uint32_t rate_burst;   /* tokens of the bucket; 0: rate_count */
	uint32_t max_attempts; /* the defaults of the queue's tasks */
	int64_t retry_initial_backoff_ms;
	double retry_multiplier;
	int64_t retry_max_backoff_ms;
	int64_t heartbeat_timeout_ms;
	int64_t start_to_close_timeout_ms;
	int64_t updated_at_ms; /* set by the server */
} cairn_queue_settings;

/* The fields that cairn_queue_set changes (the others keep their values),
 * and CAIRN_QUEUE_CREATE to configure a queue that has no tasks yet. */
enum cairn_queue_field {
	CAIRN_QUEUE_PAUSED = 1 << 0,
	CAIRN_QUEUE_MAX_ACTIVE = 1 << 1,
	CAIRN_QUEUE_RATE = 1 << 2, /* count, interval and burst */
	CAIRN_QUEUE_MAX_ATTEMPTS = 1 << 3,
	CAIRN_QUEUE_RETRY = 1 << 4,
	CAIRN_QUEUE_HEARTBEAT_TIMEOUT = 1 << 5,
	CAIRN_QUEUE_START_TO_CLOSE_TIMEOUT = 1 << 6,
	CAIRN_QUEUE_ALL = (1 << 7) - 1,
	CAIRN_QUEUE_CREATE = 1 << 16,
};

/* cairn_queue_set changes the fields of s->queue's settings that fields
 * names (CAIRN_QUEUE_ bits, at least one) and returns all of them after
 * the change in *out (may be NULL). A queue with no tasks and no settings
 * is CAIRN_NOT_FOUND unless fields has CAIRN_QUEUE_CREATE. */
CAIRN_API int cairn_queue_set(cairn_client *c, const cairn_queue_settings *s,
    unsigned fields, cairn_queue_settings **out);
/* cairn_queue_get returns the settings of queue in *out (all zero for a
 * queue with tasks and no settings; CAIRN_NOT_FOUND with neither). */
CAIRN_API int cairn_queue_get(
    cairn_client *c, const char *queue, cairn_queue_settings **out);
/* cairn_queue_list returns every configured queue's settings, by name, as
 * an array of *n. */
CAIRN_API int cairn_queue_list(
    cairn_client *c, cairn_queue_settings **out, size_t *n);
/* cairn_queue_settings_free frees an array of n settings (1 for one);
 * NULL is a no-op. */
CAIRN_API void cairn_queue_settings_free(cairn_queue_settings *s, size_t n);

/* cairn_await waits up to wait_ms for task id to be terminal and returns
 * it in *task; *done says whether it is terminal. */
CAIRN_API int cairn_await(cairn_client *c, uint64_t id, int64_t wait_ms,
    cairn_task **task, bool *done);

typedef struct cairn_event {
	int64_t at_ms;
	char *kind;
	uint32_t attempt;
	char *worker_id;
	char *message;
} cairn_event;

/* cairn_history returns the events of task id, oldest first, freed with
 * cairn_events_free. */
CAIRN_API int cairn_history(
    cairn_client *c, uint64_t id, cairn_event **events, size_t *n);
CAIRN_API void cairn_events_free(cairn_event *events, size_t n);

/* cairn_ping makes a round trip that touches no storage. *server_time_ms
 * and *version (free with cairn_free) may be NULL. */
CAIRN_API int cairn_ping(
    cairn_client *c, int64_t *server_time_ms, char **version);

/*
 * Doing more per request: a worker that holds many tasks completes or
 * heartbeats them in one round trip and one commit on the server, and a
 * worker that loops completes a task and leases the next in one.
 */

/* One completion of a batch. */
typedef struct cairn_completion {
	uint64_t id;
	const char *lease_token;
	const void *result;
	size_t result_len;
} cairn_completion;

/*
 * cairn_complete_batch completes n tasks in one request. Each is applied on
 * its own: statuses (an array of n supplied by the caller) receives each
 * task's status, CAIRN_OK or, for a lost lease, CAIRN_FAILED_PRECONDITION;
 * cairn_client_errmsg() then tells the first refusal. The return value is
 * CAIRN_OK when the request was applied (read statuses); any other status
 * means none took effect (CAIRN_UNAVAILABLE: the outcome is unknown).
 */
CAIRN_API int cairn_complete_batch(
    cairn_client *c, const cairn_completion *items, size_t n, int *statuses);

/* One heartbeat of a batch: inputs, then what cairn_heartbeat_batch
 * sets (cancel_requested and deadline_ms when status is CAIRN_OK). */
typedef struct cairn_heartbeat_item {
	uint64_t id;
	const char *lease_token;
	const void *details;
	size_t details_len;
	int status;
	bool cancel_requested;
	int64_t deadline_ms;
} cairn_heartbeat_item;

/* cairn_heartbeat_batch heartbeats n tasks in one request, with the same
 * rules as cairn_complete_batch; the results are written into items. */
CAIRN_API int cairn_heartbeat_batch(
    cairn_client *c, cairn_heartbeat_item *items, size_t n);

/*
 * cairn_complete_next completes task id like cairn_complete and, in the
 * same request and commit, leases the next due task of the same queue:
 * *next (free with cairn_task_free) is that task with its lease_token, or
 * NULL when none was due. opts (may be NULL) gives worker_id and
 * lease_timeout_ms; the lease takes one task and does not wait.
 */
CAIRN_API int cairn_complete_next(cairn_client *c, uint64_t id,
    const char *lease_token, const void *result, size_t result_len,
    const cairn_lease_options *opts, cairn_task **next);

/*
 * cairn_backup makes the server write an online copy of its store (SQLite)
 * into a new file named file in its backup directory (cairnd
 * --backup-dir), checked with integrity_check, while it goes on serving.
 * The file is on the server's machine. wait_ms bounds the call (0: one
 * hour). *path (may be NULL; free with cairn_free) is where the copy is,
 * *bytes (may be NULL) its size. A PostgreSQL server answers
 * CAIRN_UNIMPLEMENTED: use pg_basebackup or pg_dump.
 */
CAIRN_API int cairn_backup(cairn_client *c, const char *file, int64_t wait_ms,
    char **path, uint64_t *bytes);

/*
 * Cron schedules: each tick of a schedule enqueues one task (idempotency
 * key "schedule:NAME:<tick in Unix seconds>"), exactly once across
 * servers and restarts.
 */
typedef struct cairn_schedule_spec {
	const char *name; /* 1-128 of [A-Za-z0-9_.:-] */
	/* 5 fields ("0 9 * * mon-fri"), @hourly, @daily, @weekly,
	 * @monthly, @yearly, or "@every DUR" (whole seconds: 30s, 5m). */
	const char *cron;
	const char *time_zone; /* IANA name; NULL or "": UTC */
	/* The task of each tick: queue, payload, priority, retries and
	 * timeouts (no idempotency key, delay or run_at). */
	cairn_task_spec task;
	bool skip_missed; /* missed ticks: false fires the latest once;
	                     true fires none (nor one more than 5 s late) */
	bool paused;
	bool replace;      /* replace a schedule of that name, else
	                      CAIRN_ALREADY_EXISTS */
	bool create_queue; /* allow a queue without tasks or settings, else
	                      CAIRN_INVALID_ARGUMENT (a typing error?) */
} cairn_schedule_spec;

/* A schedule as the server reports it. Free with cairn_schedule_free. */
typedef struct cairn_schedule {
	char *name;
	char *cron;
	char *time_zone; /* "": UTC */
	char *queue;
	void *payload;
	size_t payload_len;
	int32_t priority;
	uint32_t max_attempts;
	bool skip_missed;
	bool paused;
	int64_t next_fire_at_ms; /* 0: none */
	int64_t last_fire_at_ms; /* 0: never fired */
	uint64_t last_task_id;
	int64_t created_at_ms;
	int64_t updated_at_ms;
} cairn_schedule;

/* cairn_schedule_add creates (or with spec->replace, replaces) a
 * schedule; *out (may be NULL) is it as stored. Bad cron text, an unknown
 * time zone or a bad task is CAIRN_INVALID_ARGUMENT and changes nothing. */
CAIRN_API int cairn_schedule_add(
    cairn_client *c, const cairn_schedule_spec *spec, cairn_schedule **out);

/* cairn_schedule_list returns every schedule, by name, as an array of *n
 * (cairn_schedules_free). */
CAIRN_API int cairn_schedule_list(
    cairn_client *c, cairn_schedule ***out, size_t *n);

/* cairn_schedule_pause pauses (paused true) or resumes schedule name; a
 * resumed schedule waits for its next tick. *out may be NULL. */
CAIRN_API int cairn_schedule_pause(
    cairn_client *c, const char *name, bool paused, cairn_schedule **out);

/* cairn_schedule_delete deletes schedule name (the tasks it enqueued
 * stay); CAIRN_NOT_FOUND when there is none. */
CAIRN_API int cairn_schedule_delete(cairn_client *c, const char *name);

CAIRN_API void cairn_schedule_free(cairn_schedule *s);
CAIRN_API void cairn_schedules_free(cairn_schedule **v, size_t n);

/*
 * The worker helper: a loop that leases tasks (long-poll), runs a handler
 * for each on a thread of its own, up to `concurrency` at once, heartbeats
 * for every task while its handler runs, and completes or fails it with
 * what the handler says. `cairn work` is this loop with a handler that
 * runs a command.
 */
typedef struct cairn_worker cairn_worker;
typedef struct cairn_job cairn_job; /* one task in a handler's hands */

/* Why a handler should stop early (cairn_job_stop_reason). */
typedef enum cairn_stop_reason {
	CAIRN_JOB_RUN = 0,    /* keep going */
	CAIRN_JOB_CANCELED,   /* the task was canceled */
	CAIRN_JOB_LEASE_LOST, /* the lease ended; another worker may run
	                         the task now */
	CAIRN_JOB_ABANDONED,  /* the worker is stopping and gives the task
	                         back (cairn_worker_stop with abandon) */
} cairn_stop_reason;

/*
 * cairn_handler runs one task. It ends it with cairn_job_complete or
 * cairn_job_fail; returning without either completes it with an empty
 * result, or, when the job was told to stop, fails it (a canceled task
 * then ends CANCELED, an abandoned one is retried at once). task and job
 * are valid until the handler returns.
 */
typedef void (*cairn_handler)(
    cairn_job *job, const cairn_task *task, void *arg);

typedef struct cairn_worker_options {
	const char *const *queues; /* leased in this order of preference */
	size_t nqueues;
	unsigned concurrency;     /* handlers at once; default 1 */
	int64_t poll_wait_ms;     /* long-poll of each lease; default 5000;
	                             also how long a stop may take to be
	                             noticed while idle */
	int64_t lease_timeout_ms; /* 0: each task's heartbeat timeout */
	int64_t heartbeat_ms;     /* 0: a third of the lease timeout */
	const char *worker_id;    /* default host:pid */
	uint64_t max_tasks;       /* stop after this many; 0: no limit */
} cairn_worker_options;

/* cairn_worker_new makes a worker that leases through c and runs
 * handler(job, task, arg). c and the strings of opts must outlive it. Free
 * with cairn_worker_free. */
CAIRN_API int cairn_worker_new(cairn_worker **out, cairn_client *c,
    const cairn_worker_options *opts, cairn_handler handler, void *arg);

/*
 * cairn_worker_run leases and handles tasks until cairn_worker_stop, or
 * max_tasks, then waits for the handlers and returns CAIRN_OK; or returns
 * the status of a lease that can never succeed (INVALID_ARGUMENT,
 * UNAUTHENTICATED...). A server that is down is waited for.
 */
CAIRN_API int cairn_worker_run(cairn_worker *w);

/*
 * cairn_worker_stop asks the worker to stop leasing. Tasks held run to
 * their end, or with abandon their handlers are told to stop
 * (CAIRN_JOB_ABANDONED) and the tasks are failed as retryable, to run
 * again at once elsewhere. Safe from any thread and from a signal handler.
 */
CAIRN_API void cairn_worker_stop(cairn_worker *w, bool abandon);

/* cairn_worker_free frees w, which is not running; NULL is a no-op. */
CAIRN_API void cairn_worker_free(cairn_worker *w);

/* cairn_job_complete completes the job's task with result. */
CAIRN_API int cairn_job_complete(
    cairn_job *job, const void *result, size_t result_len);

/* cairn_job_fail fails the job's task's attempt with error. */
CAIRN_API int cairn_job_fail(
    cairn_job *job, const char *error, bool retryable);

/* cairn_job_set_details sets the details the next heartbeat carries
 * (copied; a retry of the task sees the last ones sent). */
CAIRN_API int cairn_job_set_details(
    cairn_job *job, const void *details, size_t len);

/* cairn_job_stop_reason says whether the handler should stop now. */
CAIRN_API cairn_stop_reason cairn_job_stop_reason(cairn_job *job);

/* cairn_job_wait_stop sleeps up to ms and returns the stop reason, sooner
 * when there is one. */
CAIRN_API cairn_stop_reason cairn_job_wait_stop(cairn_job *job, int64_t ms);

#ifdef __cplusplus
}
#endif

/* Durable workflows: runs, their logs, and the workflow SDK. */
#include "cairn_workflow.h"

#endif /* CAIRN_H */
