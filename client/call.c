/*
 * call.c - one round trip: envelope in, envelope out.
 *
 * Every rpc goes through cairn__call, so the envelope, the time budget,
 * the request id and the mapping of nng errors to statuses live in one
 * place.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "cairn_wire.h"

/* nng_duration is a 32-bit count of milliseconds. */
#define CALL_MAX_MS (INT32_MAX / 2)

/* How much later than the call's own limit nng's REQ resend timer may fire.
 * It must never fire while the call still waits: nng would send the same
 * request again, and a long-poll would be parked twice on the server. */
#define RESEND_MARGIN_MS 5000

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/*
 * cairn__request_id fills out with 32 hex digits: the wall clock in ms (6
 * bytes, big-endian), then 10 random bytes. The server keeps a record per id
 * in a table ordered by the id; ids that start with the time land next to each
 * other there, so a commit writes one page of the table for all its
 * records instead of one page per request (docs/BENCHMARKS.md). 80 random
 * bits per millisecond keep them unique.
 */
bool
cairn__request_id(char out[33])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t b[16];
	size_t got = 6;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t ms
	    = (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
	for (int i = 5; i >= 0; i--) {
		b[i] = (uint8_t) ms;
		ms >>= 8;
	}
	if (!cairn__random_bytes(b + got, sizeof(b) - got)) {
		return (false);
	}
	for (size_t i = 0; i < sizeof(b); i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 0xf];
	}
	out[32] = '\0';
	return (true);
}

/* encode packs req into an envelope in a new nng message (*out), with the
 * request id given, or a fresh one when it is NULL and flags say so. */
static int
encode(cairn_client *c, const char *method, const ProtobufCMessage *req,
    int64_t total_ms, unsigned flags, const char *given, nng_msg **out)
{
	Cairn__V1__Request env = CAIRN__V1__REQUEST__INIT;
	char rid[33];
	uint8_t *body;
	size_t len;
	nng_msg *msg;
	int rv;

	if (given != NULL) {
		env.request_id = (char *) given;
	} else if ((flags & CAIRN__MUTATING) != 0) {
		if (!cairn__request_id(rid)) {
			return (cairn__fail(c, CAIRN_INTERNAL,
			    "cannot make a request id: getrandom: %s",
			    strerror(errno)));
		}
		env.request_id = rid;
	}
	len = protobuf_c_message_get_packed_size(req);
	if ((body = malloc(len > 0 ? len : 1)) == NULL) {
		return (cairn__fail(c, CAIRN_RESOURCE_EXHAUSTED,
		    "out of memory packing a %s request", method));
	}
	protobuf_c_message_pack(req, body);

	env.method = (char *) method;
	env.body.data = body;
	env.body.len = len;
	env.token = c->token != NULL ? c->token : "";
	env.deadline_ms = total_ms;
	len = cairn__v1__request__get_packed_size(&env);
	if ((rv = nng_msg_alloc(&msg, len)) != 0) {
		free(body);
		return (cairn__fail(c, cairn__status_from_nng(rv),
		    "cannot allocate a %s request: %s", method,
		    nng_strerror(rv)));
	}
	cairn__v1__request__pack(&env, nng_msg_body(msg));
	free(body);
	*out = msg;
	return (CAIRN_OK);
}

/*
 * roundtrip sends msg (always consumed) on the slot's context and waits for
 * the reply, within total_ms for both: 0 with *reply set, or an nng error.
 */
static int
roundtrip(
    struct cairn__slot *s, nng_msg *msg, int64_t total_ms, nng_msg **reply)
{
	int64_t start = mono_ms();
	int64_t left;
	int rv;

	rv = nng_ctx_set_ms(s->ctx, NNG_OPT_REQ_RESENDTIME,
	    (nng_duration) (total_ms + RESEND_MARGIN_MS));
	if (rv != 0) {
		nng_msg_free(msg);
		return (rv);
	}
	nng_aio_set_msg(s->aio, msg);
	nng_aio_set_timeout(s->aio, (nng_duration) total_ms);
	nng_ctx_send(s->ctx, s->aio);
	nng_aio_wait(s->aio);
	if ((rv = nng_aio_result(s->aio)) != 0) {
		/* A failed send gives the message back to us. */
		if ((msg = nng_aio_get_msg(s->aio)) != NULL) {
			nng_msg_free(msg);
		}
		nng_aio_set_msg(s->aio, NULL);
		return (rv);
	}

	/* At least 1 ms: a zero timeout fails before nng registers the
	 * receive, and only a receive that times out resets the context's
	 * request, which must not stay pending in the pool. */
	left = total_ms - (mono_ms() - start);
	nng_aio_set_timeout(s->aio, (nng_duration) (left > 0 ? left : 1));
	nng_ctx_recv(s->ctx, s->aio);
	nng_aio_wait(s->aio);
	if ((rv = nng_aio_result(s->aio)) != 0) {
		return (rv);
	}
	*reply = nng_aio_get_msg(s->aio);
	nng_aio_set_msg(s->aio, NULL);
	return (0);
}

/* decode unpacks the reply envelope and, on OK, the method's message. */
static int
decode(cairn_client *c, const ProtobufCMethodDescriptor *md, nng_msg *reply,
    ProtobufCMessage **resp)
{
	Cairn__V1__Response *env;
	ProtobufCMessage *m;
	int status;

	env = cairn__v1__response__unpack(
	    NULL, nng_msg_len(reply), nng_msg_body(reply));
	if (env == NULL) {
		return (cairn__fail(c, CAIRN_INTERNAL,
		    "malformed reply to %s from %s", md->name, c->url));
	}
	if (env->code != CAIRN__V1__CODE__OK) {
		status = (int) env->code;
		if (status < 0 || status > CAIRN_UNAUTHENTICATED) {
			status = CAIRN_UNKNOWN;
		}
		/* The server's words are the useful ones: keep them. */
		cairn__errmsg_set(c->id,
		    env->message[0] != '\0' ? env->message
		                            : cairn_strerror(status));
		cairn__v1__response__free_unpacked(env, NULL);
		return (status);
	}
	m = protobuf_c_message_unpack(
	    md->output, NULL, env->body.len, env->body.data);
	cairn__v1__response__free_unpacked(env, NULL);
	if (m == NULL) {
		return (cairn__fail(c, CAIRN_INTERNAL,
		    "malformed %s reply from %s", md->name, c->url));
	}
	*resp = m;
	return (CAIRN_OK);
}

int
cairn__call(cairn_client *c, const char *method, const ProtobufCMessage *req,
    int64_t extra_wait_ms, unsigned flags, ProtobufCMessage **resp)
{
	return (
	    cairn__call_rid(c, method, req, extra_wait_ms, flags, NULL, resp));
}

int
cairn__call_rid(cairn_client *c, const char *method,
    const ProtobufCMessage *req, int64_t extra_wait_ms, unsigned flags,
    const char *rid, ProtobufCMessage **resp)
{
	const ProtobufCMethodDescriptor *md;
	struct cairn__slot slot;
	nng_msg *msg = NULL;
	nng_msg *reply = NULL;
	int64_t total;
	int rv;

	md = protobuf_c_service_descriptor_get_method_by_name(
	    &cairn__v1__queue__descriptor, method);
	if (md == NULL || req->descriptor != md->input) {
		return (cairn__fail(c, CAIRN_INTERNAL,
		    "libcairn bug: no rpc %s taking %s", method,
		    req->descriptor->name));
	}

	/* Clamped before and after the sum, which then cannot overflow. */
	total = atomic_load(&c->timeout_ms);
	if (total > CALL_MAX_MS) {
		total = CALL_MAX_MS;
	}
	if (extra_wait_ms > 0) {
		total += extra_wait_ms < CALL_MAX_MS ? extra_wait_ms
		                                     : CALL_MAX_MS;
	}
	if (total > CALL_MAX_MS) {
		total = CALL_MAX_MS;
	}

	if ((rv = encode(c, method, req, total, flags, rid, &msg))
	    != CAIRN_OK) {
		return (rv);
	}
	if ((rv = cairn__slot_get(c, &slot)) != CAIRN_OK) {
		nng_msg_free(msg);
		return (rv);
	}
	rv = roundtrip(&slot, msg, total, &reply);
	cairn__slot_put(c, &slot);

	if (rv == NNG_ETIMEDOUT) {
		return (cairn__fail(c, CAIRN_DEADLINE_EXCEEDED,
		    "no reply from %s within %lld ms", c->url,
		    (long long) total));
	}
	if (rv != 0) {
		return (cairn__fail(c, cairn__status_from_nng(rv),
		    "%s to %s failed: %s", method, c->url, nng_strerror(rv)));
	}
	rv = decode(c, md, reply, resp);
	nng_msg_free(reply);
	return (rv);
}
