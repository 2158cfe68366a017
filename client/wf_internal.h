/*
 * wf_internal.h - what the workflow files of libcairn share: conversions
 * from the wire, the replay engine's interface for the worker (and the
 * unit tests, which replay synthetic logs without a server), and the
 * growable log a turn replays.
 */
#ifndef CAIRN_WF_INTERNAL_H
#define CAIRN_WF_INTERNAL_H

#include "internal.h"

/* wf_convert.c: deep copies out of unpacked messages; NULL or false only
 * when memory ran out. */
cairn_workflow_run *cairn__wf_run_from_pb(const Cairn__V1__WorkflowRun *pb);
bool cairn__wf_entry_from_pb(cairn_wf_entry *out, const Cairn__V1__Entry *pb);
/* cairn__wf_entries_from_pb returns an array of n (n + 1 allocated, so
 * that n == 0 is not NULL). */
cairn_wf_entry *cairn__wf_entries_from_pb(
    Cairn__V1__Entry *const *pb, size_t n);
/* cairn__wf_entry_clear frees what one entry owns and zeroes it. */
void cairn__wf_entry_clear(cairn_wf_entry *e);

/*
 * The log of a run as a worker holds it: entries seq 1..n at v[0..n),
 * owned (with their buffers) by the log.
 */
struct cairn__wf_log {
	cairn_wf_entry *v;
	size_t n, cap;
};

/* cairn__wf_log_push moves e (its buffers) to the end of log; false when
 * memory ran out (e is then untouched). */
bool cairn__wf_log_push(struct cairn__wf_log *log, cairn_wf_entry *e);
/* cairn__wf_log_clear frees the entries and the array. */
void cairn__wf_log_clear(struct cairn__wf_log *log);
/* cairn__wf_log_check says whether the log is v[i].seq == i + 1 for all
 * i; when not, a message in buf. */
bool cairn__wf_log_check(
    const struct cairn__wf_log *log, char *buf, size_t len);

/*
 * wf_cache.c: the logs of runs a worker held, so that its next lease of
 * one of them names it in `known` and receives only what changed. Not
 * thread-safe: the worker locks around it. cap 0 keeps nothing.
 */
struct cairn__wf_cached {
	uint64_t run_id;
	uint32_t log_length;     /* as the server counts them */
	uint64_t resolved_count; /* every outcome up to it is in log */
	uint64_t used;           /* for least-recently-used eviction */
	struct cairn__wf_log log;
};

struct cairn__wf_cache {
	struct cairn__wf_cached *v;
	size_t n, cap;
	uint64_t tick;
};

/* cairn__wf_cache_init prepares a cache of cap runs; false when memory
 * ran out. */
bool cairn__wf_cache_init(struct cairn__wf_cache *c, size_t cap);
void cairn__wf_cache_clear(struct cairn__wf_cache *c);

/* cairn__wf_cache_known writes what the cache holds into out (room for
 * c->cap) and returns how many. */
size_t cairn__wf_cache_known(
    const struct cairn__wf_cache *c, cairn_wf_known *out);

/* cairn__wf_cache_take moves run_id's entry out of the cache into *out;
 * false when it holds none. */
bool cairn__wf_cache_take(
    struct cairn__wf_cache *c, uint64_t run_id, struct cairn__wf_cached *out);

/* cairn__wf_cache_put moves *e into the cache (its log is then the
 * cache's), in place of an older entry of the same run, evicting the one
 * used least recently when full. */
void cairn__wf_cache_put(
    struct cairn__wf_cache *c, struct cairn__wf_cached *e);

/*
 * cairn__wf_log_merge applies a delta lease's entries (a higher seq, or a
 * new outcome) to log, moving their buffers (entries[] is left zeroed for
 * the caller to free). False when they do not fit (a gap in seq): log is
 * then in an unknown state and must be read again.
 */
bool cairn__wf_log_merge(
    struct cairn__wf_log *log, cairn_wf_entry *entries, size_t n);

/*
 * A checkpoint: the context asks its owner to append the commands not yet
 * sent (cairn__wf_ctx_unsent) with keep_lease, and to give it the entries
 * as recorded (cairn__wf_ctx_sent). Returns CAIRN_OK, or the status that
 * ends the turn (then, for a lost lease, after cairn__wf_ctx_lost).
 */
typedef int (*cairn__wf_checkpoint)(cairn_wf_ctx *ctx, void *arg);

/*
 * cairn__wf_ctx_new makes the context of one turn of run over log (both
 * must outlive it; log grows when a checkpoint records entries). The
 * checkpoint may be NULL: the steps then wait for the turn's advance.
 * NULL when memory ran out.
 */
cairn_wf_ctx *cairn__wf_ctx_new(const cairn_workflow_run *run,
    struct cairn__wf_log *log, cairn__wf_checkpoint checkpoint, void *arg);
void cairn__wf_ctx_free(cairn_wf_ctx *ctx);

/* What a turn ends with (cairn__wf_ctx_run). */
enum cairn__wf_end_kind {
	CAIRN__WF_ADVANCE, /* send the unsent commands, with finish if set */
	CAIRN__WF_FAIL,    /* FailWorkflowTask with message */
	CAIRN__WF_LOST,    /* the lease is gone: send nothing */
};

struct cairn__wf_end {
	enum cairn__wf_end_kind kind;
	bool nondeterminism; /* FAIL: the code did not replay its log */
	const char *message; /* FAIL */
	cairn_workflow_state finish; /* ADVANCE: ANY, or how the run ends */
	const uint8_t *result;
	size_t result_len;
	const char *error;
};

/*
 * cairn__wf_ctx_run calls fn(ctx, input, len, arg) for the turn and says
 * in *end what the turn ends with (pointers into ctx memory). Applies the
 * rules of proto/README.md: a poisoned context wins over what fn
 * returned, and a turn that ends with log entries left unconsumed is
 * non-determinism.
 */
void cairn__wf_ctx_run(
    cairn_wf_ctx *ctx, cairn_wf_fn fn, void *arg, struct cairn__wf_end *end);

/* cairn__wf_ctx_unsent gives the commands not yet appended and the seq
 * the first of them gets. */
void cairn__wf_ctx_unsent(const cairn_wf_ctx *ctx,
    const cairn_wf_command **cmds, size_t *n, uint32_t *expected_seq);

/*
 * cairn__wf_ctx_sent records that the unsent commands were appended as
 * entries[0..n), which it moves into the log (the array is freed; its
 * entries' buffers now belong to the log). CAIRN_OK, or CAIRN_INTERNAL
 * when they do not match what was sent (the entries are then freed).
 */
int cairn__wf_ctx_sent(cairn_wf_ctx *ctx, cairn_wf_entry *entries, size_t n);

/* cairn__wf_ctx_lost marks the lease lost: every later command returns
 * CAIRN_FAILED_PRECONDITION and the turn ends CAIRN__WF_LOST. Thread-safe
 * (the heartbeat thread calls it). */
void cairn__wf_ctx_lost(cairn_wf_ctx *ctx);

/* cairn__wf_poison poisons ctx with code (unless it is already) and a
 * printf-style message; returns ctx's code. */
int cairn__wf_poison(cairn_wf_ctx *ctx, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* cairn__wf_ctx_set_cancel records a cancel seen by a heartbeat or an
 * advance. Thread-safe. */
void cairn__wf_ctx_set_cancel(cairn_wf_ctx *ctx);

#endif /* CAIRN_WF_INTERNAL_H */
