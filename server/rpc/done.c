/*
 * rpc/done.c - how the engine's answer reaches a request's handler.
 *
 * The engine calls each op's done callback on its own thread, after the
 * commit. Building, packing and sending the reply there would run nng's
 * send path on the engine thread: every reply wakes nng's idle task
 * threads, which preempt the engine several times per commit while the
 * next transaction waits. Instead the done callback only completes a
 * per-context aio; nng runs the handler's done on one of its task threads,
 * where the send path's own hand-offs mostly stay on that busy thread.
 *
 * Durability is unchanged: the aio is completed from the op's done
 * callback, which the engine calls after the commit.
 */
#include "rpc/internal.h"

/* done_cb runs on an nng task thread once the engine has answered. */
static void
done_cb(void *arg)
{
	struct rpc_ctx *c = arg;

	if (nng_aio_result(c->done_aio) != 0) {
		return; /* disarmed: the request was answered already */
	}
	c->finish(&c->op); /* ends in rpc_reply */
}

/* engine_done is the op's done callback, on the engine thread. */
static void
engine_done(struct engine_op *op)
{
	struct rpc_ctx *c = op->arg;

	nng_aio_finish(c->done_aio, 0);
}

/* cancel is never acted on: the engine answers every op it took, even
 * when it stops, and that completes the aio. */
static void
cancel(nng_aio *aio, void *arg, int rv)
{
	(void) aio;
	(void) arg;
	(void) rv;
}

int
rpc_done_open(struct rpc_ctx *c)
{
	return (nng_aio_alloc(&c->done_aio, done_cb, c));
}

void
rpc_done_close(struct rpc_ctx *c)
{
	if (c->done_aio != NULL) {
		nng_aio_free(c->done_aio);
		c->done_aio = NULL;
	}
}

bool
rpc_done_arm(struct rpc_ctx *c)
{
	/* Alone in flight, the engine has nothing else to do: the hand-off
	 * would only add a thread wake-up to this request's latency. */
	if (c->done_aio == NULL || atomic_load(&c->srv->sending) <= 1
	    || !nng_aio_begin(c->done_aio)) {
		return (false);
	}
	nng_aio_defer(c->done_aio, cancel, c);
	c->finish = c->op.done;
	c->op.done = engine_done;
	return (true);
}

void
rpc_done_disarm(struct rpc_ctx *c)
{
	c->op.done = c->finish;
	nng_aio_finish(c->done_aio, NNG_ECANCELED);
}
