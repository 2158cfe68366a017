/*
 * rpc/ctx.c - how a request ends, for the handlers and the socket alike:
 * it is handed to the engine (rpc_submit), its reply is packed and sent
 * (rpc_reply, or an error), its memory is freed, and the context receives
 * the next request. Below the handlers, which call it; it calls none of
 * them (their done callbacks are reached through the op).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/log.h"
#include "ops/metrics.h"
#include "rpc/internal.h"

void
rpc_ctx_recv(struct rpc_ctx *c)
{
	/* Once the socket closes, every operation fails at once: posting
	 * again would spin in nng's threads and keep nng_close waiting. */
	if (atomic_load(&c->srv->closing)) {
		return;
	}
	c->state = CTX_RECV;
	nng_aio_set_timeout(c->aio, NNG_DURATION_INFINITE);
	nng_ctx_recv(c->ctx, c->aio);
}

void
rpc_ctx_release(struct rpc_ctx *c)
{
	engine_op_clear(&c->op);
	if (c->body != NULL) {
		protobuf_c_message_free_unpacked(c->body, NULL);
		c->body = NULL;
	}
	if (c->req != NULL) {
		cairn__v1__request__free_unpacked(c->req, NULL);
		c->req = NULL;
	}
	free(c->scratch);
	c->scratch = NULL;
}

void
rpc_reply(const ProtobufCMessage *out, void *closure_data)
{
	struct rpc_ctx *c = closure_data;
	Cairn__V1__Response resp = CAIRN__V1__RESPONSE__INIT;
	uint8_t *body = NULL;
	nng_msg *msg = NULL;

	if (out != NULL) {
		c->status = CAIRN_OK;
		c->msg[0] = 0;
		resp.body.len = protobuf_c_message_get_packed_size(out);
		if (resp.body.len > 0
		    && (body = malloc(resp.body.len)) == NULL) {
			c->status = CAIRN_RESOURCE_EXHAUSTED;
			snprintf(c->msg, sizeof(c->msg), "out of memory");
			resp.body.len = 0;
		} else if (resp.body.len > 0) {
			protobuf_c_message_pack(out, body);
			resp.body.data = body;
		}
	}
	resp.code = (Cairn__V1__Code) c->status;
	resp.message = c->msg;
	size_t size = cairn__v1__response__get_packed_size(&resp);
	if (nng_msg_alloc(&msg, size) == 0) {
		cairn__v1__response__pack(&resp, nng_msg_body(msg));
	}
	free(body);
	metrics_request(
	    c->req != NULL ? c->req->method : NULL, c->status, c->start_ns);
	rpc_ctx_release(c);
	if (c->deliver != NULL) {
		atomic_fetch_sub(&c->srv->sending, 1);
		c->deliver(c, msg);
		return;
	}
	if (msg == NULL) {
		/* No memory for even an error reply: drop the request; the
		 * client's timeout reports it. */
		log_error("no memory for a reply");
		atomic_fetch_sub(&c->srv->sending, 1);
		rpc_ctx_recv(c);
		return;
	}
	nng_aio_set_msg(c->aio, msg);
	c->state = CTX_SEND;
	/* A peer that never reads its replies must not keep this context
	 * (and the reply's memory) for ever. */
	nng_aio_set_timeout(
	    c->aio, (nng_duration) c->srv->cfg.send_timeout_ms);
	nng_ctx_send(c->ctx, c->aio);
}

void
rpc_refuse(struct rpc_ctx *c, int status, const char *fmt, ...)
{
	va_list ap;

	c->status = status;
	va_start(ap, fmt);
	vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
	va_end(ap);
	rpc_reply(NULL, c);
}

void
rpc_submit(struct rpc_ctx *c, ProtobufCClosure closure,
    void (*done)(struct engine_op *op))
{
	c->closure = closure;
	c->op.done = done;
	c->op.arg = c;
	c->op.conn = c->conn;
	/* A resent Enqueue or Lease is recognised by it (serve checked
	 * it). */
	c->op.request_id = c->req != NULL && c->req->request_id[0] != 0
	    ? c->req->request_id
	    : NULL;
	bool armed = rpc_done_arm(c);
	if (engine_submit(c->srv->engine, &c->op) != CAIRN_OK) {
		if (armed) {
			rpc_done_disarm(c);
		}
		rpc_refuse(c, CAIRN_UNAVAILABLE, "server is shutting down");
	}
}

void
rpc_reply_error(struct rpc_ctx *c, int status)
{
	c->status = status;
	rpc_reply(NULL, c);
}

bool
rpc_done_error(struct rpc_ctx *c)
{
	if (c->op.status == CAIRN_OK) {
		return (false);
	}
	rpc_refuse(c, c->op.status, "%s", c->op.msg);
	return (true);
}
