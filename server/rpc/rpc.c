/*
 * rpc/rpc.c - the nng rep0 server: socket, listeners and the per-context state
 * machine (RECV -> WORK -> SEND -> RECV), after nng's demo/async/server.c,
 * and the envelope of every request. How a request ends (its reply) is in
 * ctx.c, below the handlers that end it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ops/auth.h"
#include "lifecycle/replay.h"
#include "ops/log.h"
#include "ops/metrics.h"
#include "ops/options.h"
#include "rpc/internal.h"

#include <nng/protocol/reqrep0/rep.h>

/* serve decodes the envelope of a received message and dispatches it. */
static void
serve(struct rpc_ctx *c, nng_msg *m)
{
	size_t len = nng_msg_len(m);

	c->start_ns = metrics_clock();
	memset(&c->op, 0, sizeof(c->op));
	/* Which connection: its leases may be bound to it (and a test's
	 * message, which came on none, has no pipe). */
	int pipe_id = nng_pipe_id(nng_msg_get_pipe(m));
	c->conn = pipe_id > 0 ? (uint32_t) pipe_id : 0;
	c->status = CAIRN_OK;
	c->msg[0] = 0;
	if (len > c->srv->cfg.limits.max_message) {
		nng_msg_free(m);
		rpc_refuse(c, CAIRN_RESOURCE_EXHAUSTED,
		    "message of %zu bytes exceeds the limit of %zu bytes", len,
		    c->srv->cfg.limits.max_message);
		return;
	}
	c->req = cairn__v1__request__unpack(NULL, len, nng_msg_body(m));
	nng_msg_free(m);
	if (c->req == NULL) {
		rpc_refuse(c, CAIRN_INVALID_ARGUMENT,
		    "malformed request: not a cairn.v1.Request envelope");
		return;
	}
	if (atomic_load(&c->srv->stopping)) {
		rpc_refuse(c, CAIRN_UNAVAILABLE, "server is shutting down");
		return;
	}
	/* Before anything else looks at the request: an unauthenticated
	 * client learns nothing and reaches no storage. */
	if (!auth_check(c->srv->cfg.auth, c->req->token)) {
		rpc_refuse(c, CAIRN_UNAUTHENTICATED,
		    "missing or invalid token (cairnd --token-file)");
		return;
	}
	int rv = rpc_check_text(
	    "request_id", c->req->request_id, LC_REQUEST_ID_MAX, c->msg);
	if (rv != CAIRN_OK) {
		rpc_reply_error(c, rv);
		return;
	}
	rpc_dispatch(c);
}

void
rpc_serve(struct rpc_ctx *c, nng_msg *m)
{
	atomic_fetch_add(&c->srv->sending, 1);
	c->state = CTX_WORK;
	serve(c, m);
}

static void
ctx_cb(void *arg)
{
	struct rpc_ctx *c = arg;
	int rv = nng_aio_result(c->aio);

	switch (c->state) {
	case CTX_RECV:
		if (rv == NNG_ECLOSED) {
			return; /* socket closed: shutting down */
		}
		if (rv != 0) {
			rpc_ctx_recv(c);
			return;
		}
		atomic_fetch_add(&c->srv->sending, 1);
		c->state = CTX_WORK;
		serve(c, nng_aio_get_msg(c->aio));
		return;
	case CTX_SEND:
		if (rv != 0) {
			/* The peer went away; the reply is dropped. */
			nng_msg_free(nng_aio_get_msg(c->aio));
		}
		atomic_fetch_sub(&c->srv->sending, 1);
		if (rv != NNG_ECLOSED) {
			rpc_ctx_recv(c);
		}
		return;
	case CTX_WORK:
		break;
	}
}

/* with_defaults gives the zero members of cfg their defaults. */
static void
with_defaults(struct rpc_config *cfg)
{
	struct rpc_limits *l = &cfg->limits;
	struct options d;

	options_defaults(&d);
	cfg->contexts
	    = cfg->contexts > 0 ? cfg->contexts : (unsigned) d.contexts;
	if (cfg->send_timeout_ms <= 0) {
		cfg->send_timeout_ms = d.send_timeout_ms;
	}
	l->max_message
	    = l->max_message > 0 ? l->max_message : (size_t) d.max_message;
	l->max_payload
	    = l->max_payload > 0 ? l->max_payload : (size_t) d.max_payload;
	if (l->max_batch_tasks == 0) {
		l->max_batch_tasks = (uint32_t) d.max_batch;
	}
	if (l->max_wait_ms <= 0) {
		l->max_wait_ms = d.max_wait_ms;
	}
	if (l->max_log == 0) {
		l->max_log = (uint32_t) d.max_log_entries;
	}
}

/* pipe_event counts connections, and tells the engine when one closed:
 * nng keeps one callback per event, so this one does both. */
static void
pipe_event(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct rpc_server *srv = arg;
	int id = nng_pipe_id(p);

	metrics_pipe_event(ev);
	if (ev == NNG_PIPE_EV_REM_POST && id > 0) {
		engine_conn_closed(srv->engine, (uint32_t) id);
	}
}

static int
open_socket(struct rpc_server *srv, char *err, size_t errlen)
{
	int rv;

	if ((rv = nng_rep0_open(&srv->sock)) != 0) {
		snprintf(
		    err, errlen, "cannot open socket: %s", nng_strerror(rv));
		return (CAIRN_INTERNAL);
	}
	/* Failing to watch costs a metric and the release of leases on
	 * disconnect (their heartbeat timeout ends them), not the server. */
	(void) nng_pipe_notify(
	    srv->sock, NNG_PIPE_EV_ADD_POST, pipe_event, srv);
	(void) nng_pipe_notify(
	    srv->sock, NNG_PIPE_EV_REM_POST, pipe_event, srv);
	/* nng's default is no limit: a peer could announce a message of
	 * any size and make us allocate it. Slightly above our own limit,
	 * so that a message a little too large still gets a clear reply. */
	nng_socket_set_size(srv->sock, NNG_OPT_RECVMAXSZ,
	    srv->cfg.limits.max_message + (1 << 20));
	for (size_t i = 0; i < srv->cfg.nlisten; i++) {
		rv = rpc_listen(
		    srv->sock, srv->cfg.listen[i], &srv->cfg, err, errlen);
		if (rv != CAIRN_OK) {
			return (rv);
		}
	}
	return (CAIRN_OK);
}

static void
free_server(struct rpc_server *srv)
{
	atomic_store(&srv->closing, true);
	nng_close(srv->sock);
	for (unsigned i = 0; i < srv->nctx; i++) {
		/* First: its callback may still be sending on aio. */
		rpc_done_close(&srv->ctxs[i]);
		if (srv->ctxs[i].aio != NULL) {
			nng_aio_free(srv->ctxs[i].aio); /* waits for its cb */
		}
		rpc_ctx_release(&srv->ctxs[i]);
	}
	free(srv->ctxs);
	free(srv);
}

int
rpc_start(struct rpc_server **out, const struct rpc_config *cfg,
    struct engine *engine, char *err, size_t errlen)
{
	struct rpc_server *srv = calloc(1, sizeof(*srv));
	int rv;

	if (srv == NULL) {
		snprintf(err, errlen, "out of memory");
		return (CAIRN_RESOURCE_EXHAUSTED);
	}
	srv->cfg = *cfg;
	srv->engine = engine;
	with_defaults(&srv->cfg);
	srv->nctx = srv->cfg.contexts;
	if ((srv->ctxs = calloc(srv->nctx, sizeof(*srv->ctxs))) == NULL) {
		free(srv);
		snprintf(err, errlen, "out of memory");
		return (CAIRN_RESOURCE_EXHAUSTED);
	}
	if ((rv = open_socket(srv, err, errlen)) != CAIRN_OK) {
		free_server(srv);
		return (rv);
	}
	for (unsigned i = 0; i < srv->nctx; i++) {
		struct rpc_ctx *c = &srv->ctxs[i];
		c->srv = srv;
		if ((rv = nng_aio_alloc(&c->aio, ctx_cb, c)) != 0
		    || (rv = nng_ctx_open(&c->ctx, srv->sock)) != 0
		    || (rv = rpc_done_open(c)) != 0) {
			snprintf(err, errlen, "cannot create contexts: %s",
			    nng_strerror(rv));
			free_server(srv);
			return (CAIRN_RESOURCE_EXHAUSTED);
		}
	}
	for (unsigned i = 0; i < srv->nctx; i++) {
		rpc_ctx_recv(&srv->ctxs[i]);
	}
	*out = srv;
	return (CAIRN_OK);
}

void
rpc_stop(struct rpc_server *srv)
{
	struct timespec pause = { 0, 5 * 1000 * 1000 };

	rpc_backup_stop();
	atomic_store(&srv->stopping, true);
	/* The engine answers everything it holds, parked long-polls too;
	 * then give those replies up to a second to leave. */
	engine_stop(srv->engine);
	for (int i = 0; i < 200 && atomic_load(&srv->sending) > 0; i++) {
		nanosleep(&pause, NULL);
	}
	free_server(srv);
}
