/*
 * ops/http.c - /metrics, /healthz and /readyz on nng's HTTP server.
 *
 * /healthz is answered in nng's callback: that the process answers is the
 * whole check. /metrics and /readyz need the store, which only the engine
 * thread may touch, so they become engine ops. Their handlers hand the
 * request to a thread of ours, which submits the op and waits for it with
 * a time limit: nng's own threads, which also run the rpc server, never
 * wait for the store. Tasks by queue and state are read at most once per
 * stats_ttl_ms, so that scrapes cannot load the store.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "ops/http.h"
#include "ops/log.h"
#include "ops/metrics.h"

enum job_kind { JOB_METRICS, JOB_READY };

struct job {
	enum job_kind kind;
	nng_aio *aio; /* nng's, finished by us */
	struct job *next;
};

struct http_server {
	struct http_config cfg;
	nng_http_server *srv;
	char bound[64];
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *head, *tail; /* under mu */
	atomic_bool stopping;
	double start_time; /* seconds since the epoch */

	/* Our thread only: the last read of tasks by queue. */
	struct queue_stats *st;
	size_t nst;
	bool st_ok;
	uint64_t st_at; /* metrics_clock; 0: never */
	/* ... and of runs by type and state (none: a store without). */
	struct wf_type_stats *wst;
	size_t nwst;
};

/* An engine op that we may stop waiting for: the engine still owns it
 * until done, which then frees it. */
struct probe {
	struct engine_op op;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	enum { PROBE_WAITING, PROBE_DONE, PROBE_ABANDONED } state;
};

static void
probe_free(struct probe *p)
{
	engine_op_clear(&p->op);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

static void
probe_done(struct engine_op *op)
{
	struct probe *p = op->arg;

	pthread_mutex_lock(&p->mu);
	if (p->state == PROBE_ABANDONED) {
		pthread_mutex_unlock(&p->mu);
		probe_free(p);
		return;
	}
	p->state = PROBE_DONE;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* probe_run submits p->op and waits for it up to timeout_ms. Returns p,
 * answered, for the caller to free; NULL when the engine did not answer
 * in time or refused it (p is then no longer the caller's). */
static struct probe *
probe_run(struct http_server *h, struct probe *p)
{
	struct timespec until;
	int64_t ms = h->cfg.probe_timeout_ms;
	bool done;

	p->op.done = probe_done;
	p->op.arg = p;
	if (engine_submit(h->cfg.engine, &p->op) != CAIRN_OK) {
		probe_free(p);
		return (NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&p->mu);
	while (p->state == PROBE_WAITING
	    && pthread_cond_timedwait(&p->cv, &p->mu, &until) != ETIMEDOUT) { }
	done = p->state == PROBE_DONE;
	if (!done) {
		p->state = PROBE_ABANDONED; /* probe_done frees it */
	}
	pthread_mutex_unlock(&p->mu);
	return (done ? p : NULL);
}

static struct probe *
probe_new(enum engine_op_kind kind)
{
	struct probe *p = calloc(1, sizeof(*p));
	pthread_condattr_t ca;

	if (p == NULL) {
		return (NULL);
	}
	p->op.kind = kind;
	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cv, &ca);
	pthread_condattr_destroy(&ca);
	return (p);
}

static void
respond(nng_aio *aio, uint16_t status, const char *type, const char *body,
    size_t len)
{
	nng_http_res *res;
	int rv;

	if ((rv = nng_http_res_alloc(&res)) != 0) {
		nng_aio_finish(aio, rv);
		return;
	}
	if ((rv = nng_http_res_set_status(res, status)) != 0
	    || (rv = nng_http_res_set_header(res, "Content-Type", type)) != 0
	    || (rv = nng_http_res_copy_data(res, body, len)) != 0) {
		nng_http_res_free(res);
		nng_aio_finish(aio, rv);
		return;
	}
	nng_aio_set_output(aio, 0, res);
	nng_aio_finish(aio, 0);
}

static void
respond_text(nng_aio *aio, uint16_t status, const char *text)
{
	respond(aio, status, "text/plain; charset=utf-8", text, strlen(text));
}

/* refresh_stats reads tasks by queue and state, unless the last read is
 * recent enough. */
static void
refresh_stats(struct http_server *h)
{
	uint64_t now = metrics_clock();
	struct probe *p;

	if (h->st_at != 0
	    && now - h->st_at < (uint64_t) h->cfg.stats_ttl_ms * 1000000u) {
		return;
	}
	h->st_at = now;
	if ((p = probe_new(OP_STATS)) == NULL
	    || (p = probe_run(h, p)) == NULL) {
		h->st_ok = false;
		return;
	}
	h->st_ok = p->op.status == CAIRN_OK;
	if (h->st_ok) {
		queue_stats_free(h->st, h->nst);
		h->st = p->op.out.stats.st;
		h->nst = p->op.out.stats.n;
		p->op.out.stats.st = NULL;
		p->op.out.stats.n = 0;
	}
	probe_free(p);
	if ((p = probe_new(OP_WF_STATS)) == NULL
	    || (p = probe_run(h, p)) == NULL) {
		return;
	}
	if (p->op.status == CAIRN_OK) {
		wf_type_stats_free(h->wst, h->nwst);
		h->wst = p->op.out.wf_stats.st;
		h->nwst = p->op.out.wf_stats.n;
		p->op.out.wf_stats.st = NULL;
		p->op.out.wf_stats.n = 0;
	}
	probe_free(p);
}

static void
render_runs(struct http_server *h, struct metrics_buf *b)
{
	static const int states[] = { WF_RUNNING, WF_SUCCEEDED, WF_FAILED,
		WF_CANCELED, WF_TERMINATED };

	metrics_printf(b,
	    "# HELP cairn_workflow_runs Workflow runs by type and state "
	    "(finished ones until they are pruned).\n"
	    "# TYPE cairn_workflow_runs gauge\n");
	for (size_t i = 0; i < h->nwst; i++) {
		for (size_t s = 0; s < sizeof(states) / sizeof(states[0]);
		     s++) {
			metrics_printf(b,
			    "cairn_workflow_runs{type=\"%s\",state=\"%s\"} "
			    "%llu\n",
			    h->wst[i].type, wf_state_name(states[s]),
			    (unsigned long long) h->wst[i].count[states[s]]);
		}
	}
	metrics_printf(b,
	    "# HELP cairn_workflow_stuck_runs Running workflow runs whose "
	    "last workflow task failed (a replay error or "
	    "non-determinism), by type.\n"
	    "# TYPE cairn_workflow_stuck_runs gauge\n");
	for (size_t i = 0; i < h->nwst; i++) {
		metrics_printf(b,
		    "cairn_workflow_stuck_runs{type=\"%s\"} %llu\n",
		    h->wst[i].type, (unsigned long long) h->wst[i].stuck);
	}
}

static void
render_engine(struct http_server *h, struct metrics_buf *b)
{
	struct engine_counters c;

	engine_get_counters(h->cfg.engine, &c);
	metrics_printf(b,
	    "# HELP cairn_engine_ops_total Requests applied by the engine.\n"
	    "# TYPE cairn_engine_ops_total counter\n"
	    "cairn_engine_ops_total %llu\n"
	    "# HELP cairn_engine_commits_total Transactions committed.\n"
	    "# TYPE cairn_engine_commits_total counter\n"
	    "cairn_engine_commits_total %llu\n"
	    "# HELP cairn_engine_expired_total Leases ended by the engine's "
	    "timer sweep (see cairn_lease_expiries_total for all causes).\n"
	    "# TYPE cairn_engine_expired_total counter\n"
	    "cairn_engine_expired_total %llu\n"
	    "# HELP cairn_engine_pruned_total Finished tasks deleted after "
	    "the retention period.\n"
	    "# TYPE cairn_engine_pruned_total counter\n"
	    "cairn_engine_pruned_total %llu\n"
	    "# HELP cairn_parked_requests Long-polls (Lease and Await with a "
	    "wait) parked in the engine now.\n"
	    "# TYPE cairn_parked_requests gauge\n"
	    "cairn_parked_requests %llu\n",
	    (unsigned long long) c.ops, (unsigned long long) c.commits,
	    (unsigned long long) c.expired, (unsigned long long) c.pruned,
	    (unsigned long long) c.parked);
}

static void
render_tasks(struct http_server *h, struct metrics_buf *b)
{
	static const cairn_state states[] = { CAIRN_PENDING, CAIRN_ACTIVE,
		CAIRN_SUCCEEDED, CAIRN_FAILED, CAIRN_CANCELED };

	metrics_printf(b,
	    "# HELP cairn_store_up Whether the last read of tasks by queue "
	    "through the engine succeeded.\n"
	    "# TYPE cairn_store_up gauge\ncairn_store_up %d\n",
	    h->st_ok ? 1 : 0);
	metrics_printf(b,
	    "# HELP cairn_tasks Tasks by queue and state (finished ones "
	    "until they are pruned).\n# TYPE cairn_tasks gauge\n");
	for (size_t i = 0; i < h->nst; i++) {
		for (size_t s = 0; s < sizeof(states) / sizeof(states[0]);
		     s++) {
			metrics_printf(b,
			    "cairn_tasks{queue=\"%s\",state=\"%s\"} %llu\n",
			    h->st[i].queue, cairn_state_name(states[s]),
			    (unsigned long long) h->st[i].count[states[s]]);
		}
	}
	metrics_printf(b,
	    "# HELP cairn_tasks_due Pending tasks that are due now, by "
	    "queue.\n# TYPE cairn_tasks_due gauge\n");
	for (size_t i = 0; i < h->nst; i++) {
		metrics_printf(b, "cairn_tasks_due{queue=\"%s\"} %llu\n",
		    h->st[i].queue, (unsigned long long) h->st[i].due);
	}
	metrics_printf(b,
	    "# HELP cairn_oldest_due_task_age_seconds How long the oldest "
	    "due task of each queue has waited.\n"
	    "# TYPE cairn_oldest_due_task_age_seconds gauge\n");
	for (size_t i = 0; i < h->nst; i++) {
		metrics_printf(b,
		    "cairn_oldest_due_task_age_seconds{queue=\"%s\"} %.3f\n",
		    h->st[i].queue, (double) h->st[i].oldest_due_age_ms / 1e3);
	}
}

static void
serve_metrics(struct http_server *h, nng_aio *aio)
{
	struct metrics_buf b = { 0 };

	refresh_stats(h);
	metrics_printf(&b,
	    "# HELP cairn_build_info The version of cairnd and its store "
	    "backend.\n# TYPE cairn_build_info gauge\n"
	    "cairn_build_info{version=\"%s\",store=\"%s\"} 1\n"
	    "# HELP process_start_time_seconds Start time of the process "
	    "since the Unix epoch.\n"
	    "# TYPE process_start_time_seconds gauge\n"
	    "process_start_time_seconds %.3f\n",
	    h->cfg.version, h->cfg.store, h->start_time);
	render_engine(h, &b);
	metrics_render(&b);
	render_tasks(h, &b);
	render_runs(h, &b);
	if (b.failed) {
		respond_text(aio, NNG_HTTP_STATUS_INTERNAL_SERVER_ERROR,
		    "out of memory\n");
	} else {
		respond(aio, NNG_HTTP_STATUS_OK,
		    "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
	}
	free(b.data);
}

static void
serve_ready(struct http_server *h, nng_aio *aio)
{
	struct probe *p = probe_new(OP_GET);
	char text[LC_MSG_MAX + 32];

	/* A read of a task that cannot exist: one indexed lookup in a
	 * transaction of the engine, so the thread, the connection and the
	 * database must all work for it to come back. */
	if (p != NULL) {
		p->op.in.id = 0;
	}
	if (p == NULL || (p = probe_run(h, p)) == NULL) {
		respond_text(aio, NNG_HTTP_STATUS_SERVICE_UNAVAILABLE,
		    "not ready: the store did not answer in time\n");
		return;
	}
	if (p->op.status == CAIRN_OK || p->op.status == CAIRN_NOT_FOUND) {
		respond_text(aio, NNG_HTTP_STATUS_OK, "ready\n");
	} else {
		snprintf(text, sizeof(text), "not ready: %s\n", p->op.msg);
		respond_text(aio, NNG_HTTP_STATUS_SERVICE_UNAVAILABLE, text);
	}
	probe_free(p);
}

static void *
http_main(void *arg)
{
	struct http_server *h = arg;

	pthread_mutex_lock(&h->mu);
	for (;;) {
		while (h->head == NULL && !atomic_load(&h->stopping)) {
			pthread_cond_wait(&h->cv, &h->mu);
		}
		struct job *j = h->head;
		if (j == NULL) {
			break; /* stopping, nothing left */
		}
		h->head = j->next;
		if (h->head == NULL) {
			h->tail = NULL;
		}
		pthread_mutex_unlock(&h->mu);
		if (atomic_load(&h->stopping)) {
			respond_text(j->aio,
			    NNG_HTTP_STATUS_SERVICE_UNAVAILABLE, "stopping\n");
		} else if (j->kind == JOB_METRICS) {
			serve_metrics(h, j->aio);
		} else {
			serve_ready(h, j->aio);
		}
		free(j);
		pthread_mutex_lock(&h->mu);
	}
	pthread_mutex_unlock(&h->mu);
	return (NULL);
}

/* enqueue hands a request to our thread. */
static void
enqueue(nng_aio *aio, enum job_kind kind)
{
	nng_http_handler *hd = nng_aio_get_input(aio, 1);
	struct http_server *h = nng_http_handler_get_data(hd);
	struct job *j = calloc(1, sizeof(*j));

	if (j == NULL) {
		nng_aio_finish(aio, NNG_ENOMEM);
		return;
	}
	j->kind = kind;
	j->aio = aio;
	pthread_mutex_lock(&h->mu);
	if (atomic_load(&h->stopping)) {
		pthread_mutex_unlock(&h->mu);
		free(j);
		respond_text(
		    aio, NNG_HTTP_STATUS_SERVICE_UNAVAILABLE, "stopping\n");
		return;
	}
	if (h->tail != NULL) {
		h->tail->next = j;
	} else {
		h->head = j;
	}
	h->tail = j;
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
}

static void
on_metrics(nng_aio *aio)
{
	enqueue(aio, JOB_METRICS);
}

static void
on_ready(nng_aio *aio)
{
	enqueue(aio, JOB_READY);
}

static void
on_health(nng_aio *aio)
{
	respond_text(aio, NNG_HTTP_STATUS_OK, "ok\n");
}

static int
add_handler(struct http_server *h, const char *path, void (*cb)(nng_aio *))
{
	nng_http_handler *hd;
	int rv;

	if ((rv = nng_http_handler_alloc(&hd, path, cb)) != 0) {
		return (rv);
	}
	if ((rv = nng_http_handler_set_data(hd, h, NULL)) != 0
	    || (rv = nng_http_server_add_handler(h->srv, hd)) != 0) {
		nng_http_handler_free(hd);
	}
	return (rv);
}

static int
listen_http(struct http_server *h, char *err, size_t errlen)
{
	static const struct {
		const char *path;
		void (*cb)(nng_aio *);
	} routes[] = {
		{ "/metrics", on_metrics },
		{ "/healthz", on_health },
		{ "/readyz", on_ready },
	};
	char text[300];
	nng_url *url;
	nng_sockaddr sa;
	int rv;

	snprintf(text, sizeof(text), "%s%s",
	    strncmp(h->cfg.addr, "http://", 7) == 0 ? "" : "http://",
	    h->cfg.addr);
	if ((rv = nng_url_parse(&url, text)) != 0) {
		snprintf(err, errlen, "--http %s: not HOST:PORT (%s)",
		    h->cfg.addr, nng_strerror(rv));
		return (CAIRN_INVALID_ARGUMENT);
	}
	rv = nng_http_server_hold(&h->srv, url);
	nng_url_free(url);
	for (size_t i = 0; rv == 0 && i < sizeof(routes) / sizeof(routes[0]);
	     i++) {
		rv = add_handler(h, routes[i].path, routes[i].cb);
	}
	if (rv == 0) {
		rv = nng_http_server_start(h->srv);
	}
	if (rv != 0) {
		snprintf(err, errlen, "cannot serve HTTP on %s: %s",
		    h->cfg.addr, nng_strerror(rv));
		return (rv == NNG_EADDRINUSE ? CAIRN_UNAVAILABLE
		                             : CAIRN_INVALID_ARGUMENT);
	}
	if (nng_http_server_get_addr(h->srv, &sa) == 0
	    && sa.s_family == NNG_AF_INET) {
		const uint8_t *a = (const uint8_t *) &sa.s_in.sa_addr;
		snprintf(h->bound, sizeof(h->bound), "%u.%u.%u.%u:%u", a[0],
		    a[1], a[2], a[3], (unsigned) ntohs(sa.s_in.sa_port));
	} else {
		snprintf(h->bound, sizeof(h->bound), "%s", h->cfg.addr);
	}
	return (CAIRN_OK);
}

int
http_start(struct http_server **out, const struct http_config *cfg, char *err,
    size_t errlen)
{
	struct http_server *h = calloc(1, sizeof(*h));
	struct timespec now;
	int rv;

	if (h == NULL) {
		snprintf(err, errlen, "out of memory");
		return (CAIRN_RESOURCE_EXHAUSTED);
	}
	h->cfg = *cfg;
	if (h->cfg.stats_ttl_ms <= 0) {
		h->cfg.stats_ttl_ms = 1000;
	}
	if (h->cfg.probe_timeout_ms <= 0) {
		h->cfg.probe_timeout_ms = 2000;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	h->start_time = (double) now.tv_sec + (double) now.tv_nsec / 1e9;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	if (pthread_create(&h->thread, NULL, http_main, h) != 0) {
		snprintf(err, errlen, "cannot start the HTTP thread");
		http_stop(h);
		return (CAIRN_RESOURCE_EXHAUSTED);
	}
	h->thread_started = true;
	if ((rv = listen_http(h, err, errlen)) != CAIRN_OK) {
		http_stop(h);
		return (rv);
	}
	*out = h;
	return (CAIRN_OK);
}

void
http_bound_addr(const struct http_server *h, char *buf, size_t len)
{
	snprintf(buf, len, "%s", h->bound);
}

void
http_stop(struct http_server *h)
{
	if (h == NULL) {
		return;
	}
	/* Our thread answers what is queued before nng frees the
	 * connections those requests came on. */
	pthread_mutex_lock(&h->mu);
	atomic_store(&h->stopping, true);
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
	if (h->thread_started) {
		pthread_join(h->thread, NULL);
	}
	if (h->srv != NULL) {
		nng_http_server_stop(h->srv);
		nng_http_server_release(h->srv);
	}
	queue_stats_free(h->st, h->nst);
	wf_type_stats_free(h->wst, h->nwst);
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mu);
	free(h);
}
