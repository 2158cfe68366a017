/*
 * wf_worker.c - the workflow worker (cairn_wf_worker_*): `concurrency`
 * threads, each a loop of lease (long-poll), turn and advance, and one
 * heartbeat thread for the turns in progress.
 *
 * A turn: the run's log (from the lease, merged with the cached log for a
 * delta lease, or read again with WorkflowHistory when the two do not
 * fit), the registered function replayed over it (wf_ctx.c), steps
 * checkpointed as they finish, and one AdvanceWorkflow or
 * FailWorkflowTask at the end. Advances are resent with the same request
 * id while the outcome is unknown, so that the server answers a resend as
 * the first.
 *
 * Times are the monotonic clock's, as in worker.c: a lease's deadline is
 * counted from when the lease was asked for, which is never later than
 * the server's.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wf_worker.h"

int64_t
cairn__wf_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

void
cairn__wf_sleep_ms(int64_t ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

bool
cairn__wf_transient(int status)
{
	return (status == CAIRN_UNAVAILABLE
	    || status == CAIRN_DEADLINE_EXCEEDED || status == CAIRN_CANCELLED);
}

/* count adds one to a counter of the stats. */
static void
count(cairn_wf_worker *w, uint64_t *counter, uint64_t n)
{
	pthread_mutex_lock(&w->mu);
	*counter += n;
	pthread_mutex_unlock(&w->mu);
}

static int64_t
slot_deadline(struct wf_slot *s)
{
	int64_t d;

	pthread_mutex_lock(&s->w->mu);
	d = s->deadline;
	pthread_mutex_unlock(&s->w->mu);
	return (d);
}

/* advance sends req, again with the same request id while the outcome is
 * unknown and the lease may still hold. */
static int
advance(struct wf_slot *s, cairn_wf_advance *req, cairn_wf_advanced *out)
{
	cairn_wf_worker *w = s->w;
	char rid[33];
	int rv;

	if (!cairn__request_id(rid)) {
		return (CAIRN_INTERNAL);
	}
	req->request_id = rid;
	count(w, &w->stats.advances, 1);
	while (cairn__wf_transient(rv = cairn_workflow_advance(w->c, req, out))
	    && cairn__wf_mono_ms() < slot_deadline(s)) {
		cairn__wf_sleep_ms(RETRY_MS);
	}
	if (rv == CAIRN_OK) {
		pthread_mutex_lock(&w->mu);
		s->deadline = cairn__wf_mono_ms() + w->lease_ms;
		pthread_mutex_unlock(&w->mu);
	}
	return (rv);
}

/* checkpoint appends a turn's commands so far, keeping the lease
 * (cairn__wf_checkpoint). */
static int
checkpoint(cairn_wf_ctx *ctx, void *arg)
{
	struct wf_slot *s = arg;
	cairn_wf_advance req = { .run_id = s->run_id,
		.lease_token = s->token,
		.keep_lease = true };
	cairn_wf_advanced res = { 0 };
	int rv;

	cairn__wf_ctx_unsent(
	    ctx, &req.commands, &req.ncommands, &req.expected_seq);
	rv = advance(s, &req, &res);
	if (rv == CAIRN_FAILED_PRECONDITION) {
		cairn__wf_ctx_lost(ctx);
	}
	if (rv != CAIRN_OK) {
		return (cairn__wf_poison(ctx, rv, "AdvanceWorkflow: %s",
		    cairn_client_errmsg(s->w->c)));
	}
	if (res.cancel_requested) {
		cairn__wf_ctx_set_cancel(ctx);
	}
	return (cairn__wf_ctx_sent(ctx, res.entries, res.nentries));
}

static void
fail_task(struct wf_slot *s, const char *error, bool nondeterminism)
{
	cairn_wf_worker *w = s->w;
	int rv;

	count(w,
	    nondeterminism ? &w->stats.nondeterminism
	                   : &w->stats.task_failures,
	    1);
	/* A repeat of a fail that took effect is refused as a lost lease,
	 * which is harmless: the first one counted. */
	while (
	    cairn__wf_transient(rv = cairn_workflow_fail_task(w->c, s->run_id,
	                            s->token, error, nondeterminism, NULL))
	    && cairn__wf_mono_ms() < slot_deadline(s)) {
		cairn__wf_sleep_ms(RETRY_MS);
	}
}

static const struct wf_type *
find_type(const cairn_wf_worker *w, const char *name)
{
	for (size_t i = 0; i < w->ntypes; i++) {
		if (strcmp(w->types[i].name, name) == 0) {
			return (&w->types[i]);
		}
	}
	return (NULL);
}

/* history_log reads the run's whole log again, page by page. */
static int
history_log(cairn_wf_worker *w, uint64_t run_id, struct cairn__wf_log *log)
{
	uint32_t after = 0;
	int rv;

	count(w, &w->stats.history_loads, 1);
	cairn__wf_log_clear(log);
	do {
		cairn_wf_entry *v;
		size_t n;
		rv = cairn_workflow_history(
		    w->c, run_id, NULL, after, 0, NULL, &v, &n, &after);
		if (rv != CAIRN_OK) {
			return (rv);
		}
		bool ok = cairn__wf_log_merge(log, v, n);
		cairn_wf_entries_free(v, n);
		if (!ok) {
			return (cairn__fail(w->c, CAIRN_INTERNAL,
			    "the history of run %llu has a gap",
			    (unsigned long long) run_id));
		}
	} while (after != 0);
	return (CAIRN_OK);
}

/*
 * build_log makes the log a turn replays from a lease, into *out (which
 * also gets the cache's counts): the lease's entries, or, for a delta, the
 * cached log with them merged, as long as the cache still holds what was
 * announced in `sent`.
 */
static int
build_log(cairn_wf_worker *w, cairn_leased_run *lr, const cairn_wf_known *sent,
    struct cairn__wf_cached *out)
{
	uint64_t id = lr->run->run_id;
	bool ok = false, have;

	pthread_mutex_lock(&w->mu);
	have = cairn__wf_cache_take(&w->cache, id, out);
	w->stats.entries_leased += lr->nentries;
	if (lr->delta) {
		w->stats.leases_delta++;
	} else {
		w->stats.leases_full++;
	}
	pthread_mutex_unlock(&w->mu);
	if (!have) {
		memset(out, 0, sizeof(*out));
	}
	if (!lr->delta) {
		cairn__wf_log_clear(&out->log);
		ok = true;
	} else if (have && sent != NULL && out->log_length >= sent->log_length
	    && out->resolved_count >= sent->resolved_count) {
		/* The delta holds every entry written or resolved since what
		 * was announced; a cache that another turn of this run has
		 * moved further since still lies under it, and merging by
		 * seq replaces what changed. */
		ok = true;
	}
	ok = ok && cairn__wf_log_merge(&out->log, lr->entries, lr->nentries)
	    && out->log.n == lr->run->log_length;
	out->run_id = id;
	out->log_length = lr->run->log_length;
	out->resolved_count = lr->run->resolved_count;
	if (ok) {
		return (CAIRN_OK);
	}
	/* Evicted or replaced by another thread meanwhile, or a reply that
	 * does not fit: read the log as it is now. */
	return (history_log(w, id, &out->log));
}

static void
slot_begin(struct wf_slot *s, cairn_leased_run *lr, int64_t leased_at)
{
	cairn_wf_worker *w = s->w;

	pthread_mutex_lock(&w->mu);
	s->turn = ++w->turns;
	s->run_id = lr->run->run_id;
	s->token = lr->lease_token;
	s->deadline = leased_at + w->lease_ms;
	s->next_hb = cairn__wf_mono_ms() + w->hb_ms;
	s->lost = false;
	s->ctx = NULL;
	w->stats.turns++;
	pthread_mutex_unlock(&w->mu);
}

static void
slot_end(struct wf_slot *s)
{
	pthread_mutex_lock(&s->w->mu);
	s->turn = 0;
	s->ctx = NULL;
	s->token = NULL;
	pthread_mutex_unlock(&s->w->mu);
}

/* finish sends what the turn ended with; true when the log is worth
 * keeping for the run's next turn (it goes on, and this worker knows it
 * all). */
static bool
finish(struct wf_slot *s, cairn_wf_ctx *ctx, const struct cairn__wf_end *end,
    struct cairn__wf_cached *held)
{
	cairn_wf_worker *w = s->w;
	cairn_wf_advance req
	    = { .run_id = s->run_id, .lease_token = s->token };
	cairn_wf_advanced res = { 0 };
	int rv;

	if (end->kind == CAIRN__WF_LOST) {
		count(w, &w->stats.leases_lost, 1);
		return (false);
	}
	if (end->kind == CAIRN__WF_FAIL) {
		fail_task(s, end->message, end->nondeterminism);
		return (false);
	}
	cairn__wf_ctx_unsent(
	    ctx, &req.commands, &req.ncommands, &req.expected_seq);
	req.finish = end->finish;
	req.result = end->result;
	req.result_len = end->result_len;
	req.error = end->error;
	rv = advance(s, &req, &res);
	if (rv == CAIRN_FAILED_PRECONDITION) {
		count(w, &w->stats.leases_lost, 1);
		return (false);
	}
	if (rv != CAIRN_OK) {
		/* Refused for what it holds (too many entries...): the run
		 * is marked stuck with the reason, not failed. */
		char msg[600];
		snprintf(msg, sizeof(msg), "AdvanceWorkflow refused: %s: %s",
		    cairn_strerror(rv), cairn_client_errmsg(w->c));
		fail_task(s, msg, false);
		return (false);
	}
	if (end->finish != CAIRN_WF_STATE_ANY) {
		cairn_wf_entries_free(res.entries, res.nentries);
		return (false); /* the run is over */
	}
	if (cairn__wf_ctx_sent(ctx, res.entries, res.nentries) != CAIRN_OK) {
		return (false);
	}
	held->log_length = res.log_length;
	return (held->log.n == res.log_length);
}

/* cairn__wf_turn runs one leased run's turn to its end. */
void
cairn__wf_turn(struct wf_slot *s, cairn_leased_run *lr,
    const cairn_wf_known *sent, int64_t leased_at)
{
	cairn_wf_worker *w = s->w;
	const struct wf_type *t = find_type(w, lr->run->type);
	struct cairn__wf_cached held = { 0 };
	struct cairn__wf_end end;
	cairn_wf_ctx *ctx = NULL;
	char msg[600];
	bool keep = false;
	int rv;

	slot_begin(s, lr, leased_at);
	if (t == NULL) {
		snprintf(msg, sizeof(msg),
		    "no workflow function for type \"%s\" on this worker",
		    lr->run->type);
		fail_task(s, msg, false);
		goto out;
	}
	if ((rv = build_log(w, lr, sent, &held)) != CAIRN_OK) {
		snprintf(msg, sizeof(msg), "cannot read the log: %s: %s",
		    cairn_strerror(rv), cairn_client_errmsg(w->c));
		fail_task(s, msg, false);
		goto out;
	}
	if ((ctx = cairn__wf_ctx_new(lr->run, &held.log, checkpoint, s))
	    == NULL) {
		fail_task(s, "out of memory", false);
		goto out;
	}
	pthread_mutex_lock(&w->mu);
	s->ctx = ctx;
	if (s->lost) {
		cairn__wf_ctx_lost(ctx);
	}
	pthread_mutex_unlock(&w->mu);
	cairn__wf_ctx_run(ctx, t->fn, t->arg, &end);
	keep = finish(s, ctx, &end, &held);
out:
	slot_end(s);
	cairn__wf_ctx_free(ctx);
	pthread_mutex_lock(&w->mu);
	if (keep) {
		cairn__wf_cache_put(&w->cache, &held);
	}
	pthread_mutex_unlock(&w->mu);
	cairn__wf_log_clear(&held.log);
}
