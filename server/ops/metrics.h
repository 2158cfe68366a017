/*
 * ops/metrics.h - the server's counters and histograms, exposed by http.c in
 * the Prometheus text format.
 *
 * The hot paths (a reply sent, a commit made, a lease expired, a
 * connection opened or closed) only add to relaxed atomics: no lock, no
 * allocation. The numbers are process-wide, like the process they
 * describe; a test program that runs several engines sees their sum.
 * Everything that needs the store (tasks by queue and state) is read at
 * scrape time through the engine (http.c), not here.
 */
#ifndef CAIRN_METRICS_H
#define CAIRN_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

/* metrics_clock returns a monotonic time in nanoseconds, the unit of
 * every start time handed to the hooks below. */
uint64_t metrics_clock(void);

/* metrics_request counts one reply to method (the rpc name of the
 * envelope; NULL or unknown: counted as "unknown") with status, and its
 * latency from start_ns. Called by rpc.c for every reply, on the thread
 * that sends it. Also logs the request at debug level, without payloads or
 * tokens. */
void metrics_request(const char *method, int status, uint64_t start_ns);

/* metrics_commit counts one transaction of the engine: ops requests
 * applied together, from start_ns until the commit returned, and whether
 * it committed. Called by the engine thread. */
void metrics_commit(size_t ops, uint64_t start_ns, bool ok);

/* metrics_lease_expired counts a lease that ended because its deadline
 * passed: by the start-to-close timeout of the attempt when
 * start_to_close, by the heartbeat timeout otherwise. Called inside the
 * engine's transaction; a transaction that is rolled back and applied
 * again (a storage fault) may count an expiry twice. */
void metrics_lease_expired(bool start_to_close);

/* metrics_lease_released counts a lease given back before its deadline:
 * its connection closed (disconnected) or its worker released it; and
 * metrics_schedule_tick a task a schedule's tick enqueued. Counted like
 * expiries, inside the engine's transaction. */
void metrics_lease_released(bool disconnected);
void metrics_schedule_tick(void);

/* Workflows, counted inside the engine's transaction like lease
 * expiries: log entries appended, workflow tasks that failed (a replay
 * error or, with nondeterminism, code that did not replay its log) or
 * whose lease expired, and how long a runnable run waited for a workflow
 * worker to lease it (wait_ms). */
void metrics_wf_appended(size_t n);
void metrics_wf_task_failed(bool nondeterminism);
void metrics_wf_lease_expired(void);
void metrics_wf_task_wait(int64_t wait_ms);

/* metrics_pipe_event counts the connections of the rpc socket: called
 * from its nng pipe notifications (rpc/rpc.c). */
void metrics_pipe_event(nng_pipe_ev ev);

/* A growing text buffer for the exposition. */
struct metrics_buf {
	char *data;
	size_t len, cap;
	bool failed; /* out of memory: the text is incomplete */
};

/* metrics_printf appends to b. */
void metrics_printf(struct metrics_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* metrics_render appends every counter and histogram of this file to b,
 * in the Prometheus text format (version 0.0.4). */
void metrics_render(struct metrics_buf *b);

#endif /* CAIRN_METRICS_H */
