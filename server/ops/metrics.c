/*
 * ops/metrics.c - process-wide counters and histograms, updated with relaxed
 * atomics on the hot paths and rendered in the Prometheus text format.
 *
 * Histograms keep one counter per bucket (not cumulative) and add them up
 * when rendered, so that an observation touches two counters only. A
 * scrape that runs while requests are counted may see a _count one ahead
 * of its buckets; Prometheus tolerates that, as every client library does
 * the same.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cairn_wire.h"
#include "cairn.pb-c.h"
#include "ops/log.h"
#include "ops/metrics.h"

#define MAX_METHODS 32 /* rpcs of service Queue, and "unknown" */
#define NSTATUS     (CAIRN_UNAUTHENTICATED + 1)

/* Request latency, in seconds: long-polls land in the upper buckets. */
static const double latency_bounds[]
    = { 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
	      0.25, 0.5, 1, 2.5, 5, 10, 30, 60 };
#define NLATENCY (sizeof(latency_bounds) / sizeof(latency_bounds[0]))

/* Requests per commit: group commit shows as mass above 1. */
static const double batch_bounds[]
    = { 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024 };
#define NBATCH (sizeof(batch_bounds) / sizeof(batch_bounds[0]))

/* Time of one transaction, fsync included, in seconds. */
static const double commit_bounds[] = { 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5 };
#define NCOMMIT (sizeof(commit_bounds) / sizeof(commit_bounds[0]))

struct hist {
	atomic_uint_fast64_t bucket[NLATENCY + 1]; /* the largest of the
	                                               three; + Inf */
	atomic_uint_fast64_t count;
	atomic_uint_fast64_t sum; /* ns for times, units otherwise */
};

static struct {
	atomic_uint_fast64_t requests[MAX_METHODS][NSTATUS];
	struct hist latency[MAX_METHODS];
	struct hist batch;
	struct hist commit;
	atomic_uint_fast64_t commits_failed;
	atomic_uint_fast64_t expired_heartbeat;
	atomic_uint_fast64_t expired_start_to_close;
	atomic_uint_fast64_t released_disconnect; /* worker's connection */
	atomic_uint_fast64_t released_worker;     /* Release rpc */
	atomic_uint_fast64_t schedule_ticks;      /* tasks of schedules */
	atomic_int_fast64_t connections;
	atomic_uint_fast64_t connections_opened;
	atomic_uint_fast64_t wf_appended;
	atomic_uint_fast64_t wf_failed[2]; /* [nondeterminism] */
	atomic_uint_fast64_t wf_expired;
	struct hist wf_wait;
} m;

#define ADD(x, n) atomic_fetch_add_explicit(&(x), (n), memory_order_relaxed)
#define GET(x)    atomic_load_explicit(&(x), memory_order_relaxed)

uint64_t
metrics_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec);
}

static void
observe(
    struct hist *h, const double *bounds, size_t nb, double v, uint64_t raw)
{
	size_t i = 0;

	while (i < nb && v > bounds[i]) {
		i++;
	}
	ADD(h->bucket[i], 1);
	ADD(h->count, 1);
	ADD(h->sum, raw);
}

/* method_index maps an rpc name to its index in service Queue; the last
 * slot counts names that are none of them. */
static size_t
method_index(const char *name)
{
	const ProtobufCServiceDescriptor *d = &cairn__v1__queue__descriptor;
	const ProtobufCMethodDescriptor *md = NULL;
	size_t n
	    = d->n_methods < MAX_METHODS - 1 ? d->n_methods : MAX_METHODS - 1;

	if (name != NULL && name[0] != 0) {
		md = protobuf_c_service_descriptor_get_method_by_name(d, name);
	}
	if (md == NULL || (size_t) (md - d->methods) >= n) {
		return (n);
	}
	return ((size_t) (md - d->methods));
}

static const char *
method_name(size_t i)
{
	const ProtobufCServiceDescriptor *d = &cairn__v1__queue__descriptor;

	return (i < d->n_methods ? d->methods[i].name : "unknown");
}

void
metrics_request(const char *method, int status, uint64_t start_ns)
{
	uint64_t ns = metrics_clock() - start_ns;
	size_t i = method_index(method);

	if (status < 0 || status >= NSTATUS) {
		status = CAIRN_UNKNOWN;
	}
	ADD(m.requests[i][status], 1);
	observe(
	    &m.latency[i], latency_bounds, NLATENCY, (double) ns / 1e9, ns);
	if (log_enabled(LOG_DEBUG)) {
		/* The name only: never the body, never the token. */
		log_debug("request %s: %s in %.3f ms", method_name(i),
		    cairn_strerror(status), (double) ns / 1e6);
	}
}

void
metrics_commit(size_t ops, uint64_t start_ns, bool ok)
{
	uint64_t ns = metrics_clock() - start_ns;

	if (!ok) {
		ADD(m.commits_failed, 1);
		return;
	}
	observe(&m.batch, batch_bounds, NBATCH, (double) ops, ops);
	observe(&m.commit, commit_bounds, NCOMMIT, (double) ns / 1e9, ns);
}

void
metrics_lease_expired(bool start_to_close)
{
	if (start_to_close) {
		ADD(m.expired_start_to_close, 1);
	} else {
		ADD(m.expired_heartbeat, 1);
	}
}

void
metrics_wf_appended(size_t n)
{
	ADD(m.wf_appended, n);
}

void
metrics_wf_task_failed(bool nondeterminism)
{
	ADD(m.wf_failed[nondeterminism ? 1 : 0], 1);
}

void
metrics_lease_released(bool disconnected)
{
	if (disconnected) {
		ADD(m.released_disconnect, 1);
	} else {
		ADD(m.released_worker, 1);
	}
}

void
metrics_schedule_tick(void)
{
	ADD(m.schedule_ticks, 1);
}

void
metrics_wf_lease_expired(void)
{
	ADD(m.wf_expired, 1);
}

void
metrics_wf_task_wait(int64_t wait_ms)
{
	uint64_t ns = wait_ms > 0 ? (uint64_t) wait_ms * 1000000u : 0;

	observe(&m.wf_wait, latency_bounds, NLATENCY, (double) ns / 1e9, ns);
}

void
metrics_pipe_event(nng_pipe_ev ev)
{
	if (ev == NNG_PIPE_EV_ADD_POST) {
		ADD(m.connections, 1);
		ADD(m.connections_opened, 1);
	} else if (ev == NNG_PIPE_EV_REM_POST) {
		ADD(m.connections, -1);
	}
}

void
metrics_printf(struct metrics_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed) {
		return;
	}
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->data != NULL ? b->data + b->len : NULL,
		    b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = true;
			return;
		}
		if ((size_t) n < b->cap - b->len) {
			b->len += (size_t) n;
			return;
		}
		size_t cap = b->cap * 2 + (size_t) n + 4096;
		char *p = realloc(b->data, cap);
		if (p == NULL) {
			b->failed = true;
			return;
		}
		b->data = p;
		b->cap = cap;
	}
}

static void
head(struct metrics_buf *b, const char *name, const char *type,
    const char *help)
{
	metrics_printf(
	    b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* render_hist writes the series of one histogram; labels is "" or
 * `key="value",`; scale turns the raw sum into the unit of the bounds. */
static void
render_hist(struct metrics_buf *b, const char *name, const char *labels,
    struct hist *h, const double *bounds, size_t nb, double scale)
{
	uint64_t cum = 0;

	for (size_t i = 0; i < nb; i++) {
		cum += GET(h->bucket[i]);
		metrics_printf(b, "%s_bucket{%sle=\"%g\"} %llu\n", name,
		    labels, bounds[i], (unsigned long long) cum);
	}
	cum += GET(h->bucket[nb]);
	metrics_printf(b, "%s_bucket{%sle=\"+Inf\"} %llu\n", name, labels,
	    (unsigned long long) cum);
	size_t ll = strlen(labels);
	metrics_printf(b, "%s_sum%s%.*s%s %.9g\n", name, ll ? "{" : "",
	    (int) (ll ? ll - 1 : 0), labels, ll ? "}" : "",
	    (double) GET(h->sum) * scale);
	metrics_printf(b, "%s_count%s%.*s%s %llu\n", name, ll ? "{" : "",
	    (int) (ll ? ll - 1 : 0), labels, ll ? "}" : "",
	    (unsigned long long) GET(h->count));
}

static void
render_requests(struct metrics_buf *b)
{
	size_t n = method_index(NULL) + 1;
	char labels[96];

	head(b, "cairn_requests_total", "counter",
	    "Requests answered, by rpc method and status code.");
	for (size_t i = 0; i < n; i++) {
		for (int s = 0; s < NSTATUS; s++) {
			uint64_t v = GET(m.requests[i][s]);
			/* Every method's OK series exists from the start,
			 * so that rates work; others once they happen. */
			if (v == 0 && (s != CAIRN_OK || i == n - 1)) {
				continue;
			}
			metrics_printf(b,
			    "cairn_requests_total{method=\"%s\",code=\"%s\"} "
			    "%llu\n",
			    method_name(i), cairn_strerror(s),
			    (unsigned long long) v);
		}
	}
	head(b, "cairn_request_duration_seconds", "histogram",
	    "Time from a request's arrival to its reply, by method "
	    "(long-polls included).");
	for (size_t i = 0; i < n; i++) {
		if (i == n - 1 && GET(m.latency[i].count) == 0) {
			continue;
		}
		snprintf(
		    labels, sizeof(labels), "method=\"%s\",", method_name(i));
		render_hist(b, "cairn_request_duration_seconds", labels,
		    &m.latency[i], latency_bounds, NLATENCY, 1e-9);
	}
}

void
metrics_render(struct metrics_buf *b)
{
	render_requests(b);
	head(b, "cairn_commit_batch_size", "histogram",
	    "Requests applied together in one committed transaction.");
	render_hist(b, "cairn_commit_batch_size", "", &m.batch, batch_bounds,
	    NBATCH, 1);
	head(b, "cairn_commit_duration_seconds", "histogram",
	    "Time of one committed transaction of the engine, from its "
	    "first statement to the end of COMMIT (the fsync included).");
	render_hist(b, "cairn_commit_duration_seconds", "", &m.commit,
	    commit_bounds, NCOMMIT, 1e-9);
	head(b, "cairn_commits_failed_total", "counter",
	    "Transactions that did not commit (their requests were "
	    "answered with an error).");
	metrics_printf(b, "cairn_commits_failed_total %llu\n",
	    (unsigned long long) GET(m.commits_failed));
	head(b, "cairn_lease_expiries_total", "counter",
	    "Leases that ended because their deadline passed, by cause.");
	metrics_printf(b,
	    "cairn_lease_expiries_total{cause=\"heartbeat_timeout\"} %llu\n"
	    "cairn_lease_expiries_total{cause=\"start_to_close_timeout\"} "
	    "%llu\n",
	    (unsigned long long) GET(m.expired_heartbeat),
	    (unsigned long long) GET(m.expired_start_to_close));
	head(b, "cairn_lease_releases_total", "counter",
	    "Leases given back before their deadline: their worker's "
	    "connection closed (disconnect), or the worker released them "
	    "(release).");
	metrics_printf(b,
	    "cairn_lease_releases_total{cause=\"disconnect\"} %llu\n"
	    "cairn_lease_releases_total{cause=\"release\"} %llu\n",
	    (unsigned long long) GET(m.released_disconnect),
	    (unsigned long long) GET(m.released_worker));
	head(b, "cairn_schedule_ticks_total", "counter",
	    "Tasks enqueued by the ticks of cron schedules.");
	metrics_printf(b, "cairn_schedule_ticks_total %llu\n",
	    (unsigned long long) GET(m.schedule_ticks));
	head(b, "cairn_workflow_log_appends_total", "counter",
	    "Entries appended to the logs of workflow runs.");
	metrics_printf(b, "cairn_workflow_log_appends_total %llu\n",
	    (unsigned long long) GET(m.wf_appended));
	head(b, "cairn_workflow_task_failures_total", "counter",
	    "Workflow tasks that a worker failed, by cause (a replay error, "
	    "or code that did not replay its log).");
	metrics_printf(b,
	    "cairn_workflow_task_failures_total{cause=\"error\"} %llu\n"
	    "cairn_workflow_task_failures_total{cause=\"nondeterminism\"} "
	    "%llu\n",
	    (unsigned long long) GET(m.wf_failed[0]),
	    (unsigned long long) GET(m.wf_failed[1]));
	head(b, "cairn_workflow_lease_expiries_total", "counter",
	    "Leases of workflow runs that ended because their deadline "
	    "passed.");
	metrics_printf(b, "cairn_workflow_lease_expiries_total %llu\n",
	    (unsigned long long) GET(m.wf_expired));
	head(b, "cairn_workflow_task_wait_seconds", "histogram",
	    "How long a runnable workflow run waited until a workflow "
	    "worker leased it.");
	render_hist(b, "cairn_workflow_task_wait_seconds", "", &m.wf_wait,
	    latency_bounds, NLATENCY, 1e-9);
	head(b, "cairn_connections", "gauge",
	    "Client connections open now (nng pipes).");
	metrics_printf(
	    b, "cairn_connections %lld\n", (long long) GET(m.connections));
	head(b, "cairn_connections_opened_total", "counter",
	    "Client connections accepted since start.");
	metrics_printf(b, "cairn_connections_opened_total %llu\n",
	    (unsigned long long) GET(m.connections_opened));
}
