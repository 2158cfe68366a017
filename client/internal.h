/*
 * internal.h - what the files of libcairn share and nothing else sees.
 *
 * Naming: cairn_ is the public API (cairn.h); cairn__ (two underscores) is
 * internal to the library and hidden by -fvisibility=hidden. protobuf-c
 * types appear here and in the files that encode and decode the wire, never
 * in cairn.h.
 */
#ifndef CAIRN_INTERNAL_H
#define CAIRN_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "cairn.h"
#include "cairn_wire.h"
#include "cairn.pb-c.h"

/* Per-call timeout when the options give none. */
#define CAIRN__DEFAULT_TIMEOUT_MS 10000

/* Contexts kept for reuse; more may exist while many threads call at once,
 * the extra ones are closed when their call ends. */
#define CAIRN__POOL_MAX 16

/*
 * One nng REQ context and the aio that drives it. A context carries one
 * request at a time, so each concurrent call needs its own; opening one
 * costs a lock and an allocation in nng, hence the pool.
 */
struct cairn__slot {
	nng_ctx ctx;
	nng_aio *aio;
};

struct cairn_client {
	nng_socket sock;
	nng_dialer dialer;
	char *url;   /* as given to open, for messages */
	char *token; /* auth token, NULL when none */
	uint64_t id; /* never reused: keys the thread-local errmsg */
	_Atomic int64_t timeout_ms;

	pthread_mutex_t pool_mu; /* protects pool and npool */
	struct cairn__slot pool[CAIRN__POOL_MAX];
	size_t npool;
};

/* conn.c: maps an nng error to a status, once, at the boundary. */
int cairn__status_from_nng(int rv);

/* tls.c: sets up TLS on the dialer of a tls+tcp:// url (nothing for
 * other urls). On failure returns a status with a message in errbuf. */
int cairn__tls_setup(nng_dialer d, const char *url,
    const cairn_client_options *o, char *errbuf, size_t errlen);

/* conn.c: takes a context for one call, and gives it back. */
int cairn__slot_get(cairn_client *c, struct cairn__slot *out);
void cairn__slot_put(cairn_client *c, struct cairn__slot *slot);

/* errmsg.c: the calling thread's message for handle id. */
void cairn__errmsg_set(uint64_t id, const char *text);
const char *cairn__errmsg_get(uint64_t id);
void cairn__errmsg_drop(uint64_t id);

/*
 * cairn__fail records a printf-style message as the calling thread's last
 * error on c and returns status, so that callers write
 * `return (cairn__fail(c, CAIRN_INVALID_ARGUMENT, "queue is NULL"));`.
 */
int cairn__fail(cairn_client *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* How a call treats the envelope. */
enum cairn__call_flags {
	CAIRN__MUTATING = 1, /* gets a request_id: the server may see it
	                        twice and must be able to tell */
};

/*
 * cairn__call makes one round trip of rpc method (a name in service Queue):
 * packs req into an envelope, sends it, waits up to the handle's timeout
 * plus extra_wait_ms, unpacks the Response and, when its code is OK, the
 * method's response message. On CAIRN_OK *resp owns that message (free with
 * protobuf_c_message_free_unpacked(*resp, NULL)). On failure the status is
 * returned and the message recorded with cairn__fail.
 */
int cairn__call(cairn_client *c, const char *method,
    const ProtobufCMessage *req, int64_t extra_wait_ms, unsigned flags,
    ProtobufCMessage **resp);

/* cairn__call_rid is cairn__call with the request id rid (NULL: as
 * cairn__call), so that a call made again after an unknown outcome is
 * recognised by the server as the same request. */
int cairn__call_rid(cairn_client *c, const char *method,
    const ProtobufCMessage *req, int64_t extra_wait_ms, unsigned flags,
    const char *rid, ProtobufCMessage **resp);

/* cairn__request_id writes a fresh request id (32 hex digits) into out;
 * false when the kernel gave no random bytes. */
bool cairn__request_id(char out[33]);

/* convert.c: deep copies out of unpacked protobuf messages. They return
 * NULL (or false) only when memory ran out. */
/* cairn__spec_to_pb fills pb (and retry, which pb may point to) from s;
 * pb borrows s's strings and payload. */
void cairn__spec_to_pb(const cairn_task_spec *s, Cairn__V1__TaskSpec *pb,
    Cairn__V1__RetryPolicy *retry);
cairn_task *cairn__task_from_pb(const Cairn__V1__Task *pb);
cairn_task **cairn__tasks_from_pb(Cairn__V1__Task *const *pb, size_t n);
bool cairn__stats_from_pb(
    cairn_queue_stats *out, const Cairn__V1__QueueStats *pb);
bool cairn__event_from_pb(cairn_event *out, const Cairn__V1__Event *pb);
cairn_state cairn__state_from_pb(Cairn__V1__TaskState s);
/* A copy of s, "" for NULL; a copy of b followed by a NUL byte not counted
 * in *len. NULL when memory ran out. */
char *cairn__str_dup(const char *s);
uint8_t *cairn__bytes_dup(const ProtobufCBinaryData *b, size_t *len);
Cairn__V1__TaskState cairn__state_to_pb(cairn_state s);

/*
 * reply.c: what several rpcs send and read alike (and cairn__pb_array of
 * cairn_wire.h, shared with the server). cairn__reply_count fails (with
 * CAIRN_INTERNAL) unless a batch reply has one result per item sent.
 */
int cairn__reply_count(cairn_client *c, size_t got, size_t want);
/* cairn__leased_from_pb copies a leased task (lt->task must be there) with
 * its lease; NULL only when memory ran out. */
cairn_task *cairn__leased_from_pb(const Cairn__V1__LeasedTask *lt);

/* rpc_work.c: the worker id of a lease, opts->worker_id or else
 * "host:pid" written into buf. opts may be NULL. */
const char *cairn__worker_id(
    const cairn_lease_options *opts, char *buf, size_t len);

#endif /* CAIRN_INTERNAL_H */
