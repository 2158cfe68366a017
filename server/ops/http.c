/*
 * ops/http.c - /metrics, /healthz and /readyz on nng's HTTP server, and
 * the dashboard's routes (ops/api.c).
 *
 * /healthz is answered in nng's callback: that the process answers is the
 * whole check. /metrics and /readyz need the store, which only the engine
 * thread may touch, so they become engine ops. Their handlers hand the
 * request to a thread of ours (ops/httpq.h), which submits the op and
 * waits for it with a time limit (ops/probe.h): nng's own threads, which
 * also run the rpc server, never wait for the store. Tasks by queue and
 * state are read at most once per stats_ttl_ms (ops/stats_cache.h), so
 * that scrapes cannot load the store. The dashboard has a thread of its
 * own, so that using it never delays /readyz.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "ops/api.h"
#include "ops/http.h"
#include "ops/httpq.h"
#include "ops/log.h"
#include "ops/metrics.h"
#include "ops/probe.h"
#include "ops/stats_cache.h"

enum job_kind { JOB_METRICS, JOB_READY };

struct http_server {
	struct http_config cfg;
	nng_http_server *srv;
	char bound[64];
	struct http_queue *q;
	struct stats_cache *cache;
	struct api *api;   /* NULL: --ui off */
	double start_time; /* seconds since the epoch */

	/* Our thread only: the last read of tasks by queue, borrowed from
	 * snap ... */
	const struct stats_snap *snap;
	struct queue_stats *st;
	size_t nst;
	bool st_ok;
	/* ... and of runs by type and state (none: a store without). */
	struct wf_type_stats *wst;
	size_t nwst;
};

/* refresh_stats takes the counts of the cache, which reads them unless
 * the last read is recent enough. */
static void
refresh_stats(struct http_server *h)
{
	const struct stats_snap *snap = stats_cache_get(h->cache);

	stats_snap_release(h->cache, h->snap);
	h->snap = snap;
	h->st = snap->st;
	h->nst = snap->nst;
	h->st_ok = snap->ok;
	h->wst = snap->wst;
	h->nwst = snap->nwst;
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

/* render_queue_limits writes the limits of every configured queue
 * (cairn queue set): 0 is no limit. */
static void
render_queue_limits(struct http_server *h, struct metrics_buf *b)
{
	const struct queue_settings *q = h->snap->qs;
	size_t n = h->snap->nqs;

	metrics_printf(b,
	    "# HELP cairn_queue_paused Whether the queue is paused (leases "
	    "take nothing), by configured queue.\n"
	    "# TYPE cairn_queue_paused gauge\n");
	for (size_t i = 0; i < n; i++) {
		metrics_printf(b, "cairn_queue_paused{queue=\"%s\"} %d\n",
		    q[i].queue, q[i].paused ? 1 : 0);
	}
	metrics_printf(b,
	    "# HELP cairn_queue_max_active The most ACTIVE tasks the queue "
	    "allows (0: no limit).\n"
	    "# TYPE cairn_queue_max_active gauge\n");
	for (size_t i = 0; i < n; i++) {
		metrics_printf(b, "cairn_queue_max_active{queue=\"%s\"} %u\n",
		    q[i].queue, (unsigned) q[i].max_active);
	}
	metrics_printf(b,
	    "# HELP cairn_queue_rate_limit_per_second Tasks the queue's rate "
	    "limit lets be leased per second (0: no limit).\n"
	    "# TYPE cairn_queue_rate_limit_per_second gauge\n");
	for (size_t i = 0; i < n; i++) {
		double per_s = q[i].rate_count > 0 ? (double) q[i].rate_count
		        * 1000.0 / (double) q[i].rate_interval_ms
		                                   : 0;
		metrics_printf(b,
		    "cairn_queue_rate_limit_per_second{queue=\"%s\"} %g\n",
		    q[i].queue, per_s);
	}
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
	render_queue_limits(h, b);
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
		http_reply_text(aio, NNG_HTTP_STATUS_INTERNAL_SERVER_ERROR,
		    "out of memory\n");
	} else {
		http_reply(aio, NNG_HTTP_STATUS_OK,
		    "text/plain; version=0.0.4; charset=utf-8", b.data, b.len,
		    NULL);
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
	if (p == NULL
	    || (p = probe_run(h->cfg.engine, p, h->cfg.probe_timeout_ms))
	        == NULL) {
		http_reply_text(aio, NNG_HTTP_STATUS_SERVICE_UNAVAILABLE,
		    "not ready: the store did not answer in time\n");
		return;
	}
	if (p->op.status == CAIRN_OK || p->op.status == CAIRN_NOT_FOUND) {
		http_reply_text(aio, NNG_HTTP_STATUS_OK, "ready\n");
	} else {
		snprintf(text, sizeof(text), "not ready: %s\n", p->op.msg);
		http_reply_text(
		    aio, NNG_HTTP_STATUS_SERVICE_UNAVAILABLE, text);
	}
	probe_free(p);
}

static void
serve(void *arg, nng_aio *aio, int kind)
{
	if (kind == JOB_METRICS) {
		serve_metrics(arg, aio);
	} else {
		serve_ready(arg, aio);
	}
}

/* enqueue hands a request to our thread. */
static void
enqueue(nng_aio *aio, enum job_kind kind)
{
	nng_http_handler *hd = nng_aio_get_input(aio, 1);
	struct http_server *h = nng_http_handler_get_data(hd);

	http_queue_put(h->q, aio, kind);
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
	http_reply_text(aio, NNG_HTTP_STATUS_OK, "ok\n");
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
	if (rv == 0 && h->api != NULL) {
		rv = api_add_handlers(h->api, h->srv);
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

/* is_loopback says whether addr ("HOST:PORT", maybe with http://) names
 * a loopback host. */
static bool
is_loopback(const char *addr)
{
	if (strncmp(addr, "http://", 7) == 0) {
		addr += 7;
	}
	return (strncmp(addr, "127.", 4) == 0 || strncmp(addr, "[::1]", 5) == 0
	    || strncmp(addr, "localhost:", 10) == 0);
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
	h->cache = stats_cache_new(
	    cfg->engine, h->cfg.stats_ttl_ms, h->cfg.probe_timeout_ms);
	struct api_config ac = {
		.engine = cfg->engine,
		.cache = h->cache,
		.auth = cfg->auth,
		.read_only
		= cfg->ui == HTTP_UI_READ_ONLY || cfg->store_read_only,
		.store_read_only = cfg->store_read_only,
		.probe_timeout_ms = h->cfg.probe_timeout_ms,
		.max_payload = cfg->max_payload,
		.version = cfg->version,
		.store = cfg->store,
	};
	if (h->cache == NULL || http_queue_start(&h->q, serve, h) != 0
	    || (cfg->ui != HTTP_UI_OFF && api_start(&h->api, &ac) != 0)) {
		snprintf(err, errlen, "cannot start the HTTP threads");
		http_stop(h);
		return (CAIRN_RESOURCE_EXHAUSTED);
	}
	if ((rv = listen_http(h, err, errlen)) != CAIRN_OK) {
		http_stop(h);
		return (rv);
	}
	if (h->api != NULL && cfg->auth == NULL && !is_loopback(h->bound)) {
		log_warn("--http %s is not a loopback address and there is no "
		         "--token-file: anyone who reaches it can use the "
		         "dashboard, retry and cancel tasks",
		    h->bound);
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
	/* Our threads answer what is queued before nng frees the
	 * connections those requests came on; what comes later is answered
	 * 503 until nng calls no handler any more. */
	http_queue_stop(h->q);
	api_stop(h->api);
	if (h->srv != NULL) {
		nng_http_server_stop(h->srv);
		nng_http_server_release(h->srv);
	}
	http_queue_free(h->q);
	api_free(h->api);
	stats_snap_release(h->cache, h->snap);
	stats_cache_free(h->cache);
	free(h);
}
