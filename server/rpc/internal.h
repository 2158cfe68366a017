/*
 * rpc/internal.h - what the rpc files share: the per-context state and
 * the helpers handlers use to answer.
 */
#ifndef CAIRN_RPC_INTERNAL_H
#define CAIRN_RPC_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>

#include <nng/nng.h>

#include "cairn.pb-c.h"
#include "rpc/rpc.h"
#include "rpc/validate.h"

enum rpc_ctx_state {
	CTX_RECV, /* waiting for a request */
	CTX_WORK, /* request with the engine */
	CTX_SEND, /* reply being sent */
};

struct rpc_server;

/* One context: one request in flight at a time. */
struct rpc_ctx {
	enum rpc_ctx_state state;
	struct rpc_server *srv;
	nng_aio *aio;
	nng_ctx ctx;

	/* The request being served; freed when its reply is sent. */
	Cairn__V1__Request *req;
	ProtobufCMessage *body;
	ProtobufCClosure closure;
	struct engine_op op;
	void *scratch; /* per-request arrays the op points into */
	int status;
	char msg[RPC_MSG_MAX];
	uint64_t start_ns; /* arrival, for metrics_request */
	uint32_t conn;     /* the pipe it came on (nng_pipe_id); 0: none */

	/* Tests only (the fuzzer): set, it takes the reply (owned, NULL
	 * when out of memory) instead of the socket. */
	void (*deliver)(struct rpc_ctx *c, nng_msg *reply);

	/* The engine's answer reaches the handler's done through this aio,
	 * on one of nng's threads (rpc/done.c); NULL: on the engine's. */
	nng_aio *done_aio;
	void (*finish)(struct engine_op *op);
};

struct rpc_server {
	struct rpc_config cfg;
	struct engine *engine;
	nng_socket sock;
	struct rpc_ctx *ctxs;
	unsigned nctx;
	atomic_bool stopping;
	atomic_bool closing; /* socket closing: contexts post nothing more */
	atomic_int sending;  /* replies not yet handed to nng */
};

/* rpc/done.c: rpc_done_open allocates c->done_aio (0 or an nng error);
 * rpc_done_close frees it, waiting for its callback; rpc_done_arm makes
 * the op's done callback go through it, and returns false (changing
 * nothing) when c has none. rpc_done_disarm undoes an armed op that the
 * engine refused. */
int rpc_done_open(struct rpc_ctx *c);
void rpc_done_close(struct rpc_ctx *c);
bool rpc_done_arm(struct rpc_ctx *c);
void rpc_done_disarm(struct rpc_ctx *c);

/* rpc_serve serves one received request message m (consumed) on c, as
 * the socket does: it ends, now or later, in one reply. */
void rpc_serve(struct rpc_ctx *c, nng_msg *m);

/* rpc_listen adds a listener on url to sock, with TLS from cfg for
 * tls+tcp:// (rpc/listen.c). On failure writes a message into err. */
int rpc_listen(nng_socket sock, const char *url, const struct rpc_config *cfg,
    char *err, size_t errlen);

/* rpc_dispatch decodes and serves the request in c->req
 * (rpc/dispatch.c). It ends, now or later, in exactly one rpc_reply
 * call. */
void rpc_dispatch(struct rpc_ctx *c);

/* How a request ends (rpc/ctx.c). Each request is answered exactly once,
 * by one of rpc_reply, rpc_refuse or rpc_reply_error, or by the done
 * callback of the op that rpc_submit handed to the engine. */

/* rpc_reply packs out (NULL on error) with c->status and c->msg into a
 * Response and sends it. The closure handed to every handler. */
void rpc_reply(const ProtobufCMessage *out, void *closure_data);

/* rpc_refuse answers c with an error status and a message. */
void rpc_refuse(struct rpc_ctx *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* rpc_reply_error answers c with an error status and the message that a
 * check (rpc/validate.h) wrote into c->msg. */
void rpc_reply_error(struct rpc_ctx *c, int status);

/* rpc_done_error answers c with its op's error; returns true if it did
 * (for the done callbacks). */
bool rpc_done_error(struct rpc_ctx *c);

/* rpc_submit hands c->op to the engine; the engine's answer arrives in
 * done, on the engine thread. */
void rpc_submit(struct rpc_ctx *c, ProtobufCClosure closure,
    void (*done)(struct engine_op *op));

/* rpc_ctx_recv sets c to receive the next request (not once the socket
 * closes); rpc_ctx_release frees what the finished request held. */
void rpc_ctx_recv(struct rpc_ctx *c);
void rpc_ctx_release(struct rpc_ctx *c);

/* rpc_backup_stop stops a running backup, which answers its request, and
 * waits for it (rpc/backup.c). Called first by rpc_stop. */
void rpc_backup_stop(void);

#endif /* CAIRN_RPC_INTERNAL_H */
