/*
 * engine/engine.c - the engine thread: group commit and timers (the parked
 * long-polls are in engine/park.c).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/internal.h"
#include "lifecycle/replay.h"
#include "lifecycle/schedule.h"
#include "ops/log.h"
#include "ops/metrics.h"
#include "ops/options.h"

#define EXPIRE_PER_BATCH  1000
#define PRUNE_PER_BATCH   200
#define PRUNE_INTERVAL_MS 10000
#define SCHED_PER_BATCH   100
/* Schedules are looked at this often at least, so that one added or
 * resumed through another server sharing the database is seen. */
#define SCHED_POLL_MS 1000

struct engine {
	struct engine_config cfg;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;

	/* Under mu: */
	struct engine_op *head, *tail; /* submitted, not yet taken */
	bool stopping;
	bool kicked;
	struct engine_counters counters;
	struct engine_batch notified; /* due elsewhere (engine_notify_due) */
	bool failed; /* storage unsafe: no more commits (engine/guard.c) */
	struct engine_clock_guard guard;
	uint32_t *closed; /* connections closed, not yet seen (ncl) */
	size_t ncl, capcl;

	/* Engine thread only: */
	struct engine_parking park;
	struct engine_binds binds; /* leases bound to connections */
	int64_t next_wakeup;       /* a task comes due or a lease ends */
	struct engine_due held;    /* queues whose limits hold leases back */
	int64_t next_prune;
	int64_t next_sched;        /* a schedule's tick, or the next look */
	int64_t prune_interval_ms; /* a short retention is kept closely */
	int64_t last_failure_log;  /* when a failed transaction was logged */
	uint64_t failures_unlogged;
};

static int64_t
system_clock(void *arg)
{
	struct timespec ts;

	(void) arg;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

int64_t
engine_now(struct engine *e)
{
	return (engine_clock_guard(&e->guard, e->cfg.clock(e->cfg.clock_arg)));
}

bool
engine_failed(struct engine *e)
{
	pthread_mutex_lock(&e->mu);
	bool failed = e->failed;
	pthread_mutex_unlock(&e->mu);
	return (failed);
}

static void
answer_all_with(struct engine_op *list, int status, const char *msg)
{
	while (list != NULL) {
		struct engine_op *next = list->next;
		engine_op_clear(list);
		list->status = status;
		snprintf(list->msg, sizeof(list->msg), "%.*s",
		    (int) sizeof(list->msg) - 1, msg);
		engine_answer(list);
		list = next;
	}
}

/* fire_schedules enqueues the due ticks of schedules and sets when to
 * look again. */
static int
fire_schedules(
    struct engine *e, struct engine_batch *b, int64_t now, char *msg)
{
	size_t fired = 0;
	int64_t at = TASK_TIME_NEVER;
	int rv;

	if (!store_has_schedules(b->store) || now < e->next_sched) {
		return (CAIRN_OK);
	}
	rv = lifecycle_sched_fire(b->store, now, SCHED_PER_BATCH, &fired, msg);
	if (rv == CAIRN_OK
	    && (rv = store_sched_next_fire(b->store, &at)) != 0) {
		snprintf(msg, LC_MSG_MAX, "%s", store_errmsg(b->store));
	}
	if (rv != CAIRN_OK) {
		return (rv);
	}
	at = at < now + SCHED_POLL_MS ? at : now + SCHED_POLL_MS;
	/* A full batch means more are due: soon, in small steps. */
	e->next_sched = fired == SCHED_PER_BATCH ? now + 50 : at;
	return (CAIRN_OK);
}

/* housekeeping expires due leases, fires schedules and prunes old
 * terminal tasks inside the open transaction. */
static int
housekeeping(struct engine *e, struct engine_batch *b, int64_t now, char *msg)
{
	size_t expired = 0, pruned = 0;
	int rv;

	rv = lifecycle_expire(b->store, now, EXPIRE_PER_BATCH, &expired, msg);
	if (rv != CAIRN_OK || (rv = fire_schedules(e, b, now, msg)) != 0) {
		return (rv);
	}
	/* Twice what one batch can record: the log cannot grow. */
	rv = lifecycle_forget_requests(
	    b->store, now, 2 * e->cfg.max_ops_per_commit, msg);
	if (rv != CAIRN_OK) {
		return (rv);
	}
	if (expired > 0) {
		b->terminal_changed = true;
		b->expired = expired;
	}
	if (store_has_workflows(b->store)
	    && ((rv = lifecycle_wf_expire(
	             b->store, now, EXPIRE_PER_BATCH, &expired, msg))
	            != CAIRN_OK
	        || (rv = lifecycle_wf_fire(
	                b->store, now, EXPIRE_PER_BATCH, &expired, msg))
	            != CAIRN_OK)) {
		return (rv);
	}
	if (now >= e->next_prune) {
		size_t runs = 0;
		rv = store_prune(b->store, now - e->cfg.retention_ms,
		    PRUNE_PER_BATCH, &pruned);
		if (rv == CAIRN_OK) {
			rv = store_wf_prune(b->store,
			    now - e->cfg.retention_ms, PRUNE_PER_BATCH, &runs);
		}
		if (rv != CAIRN_OK) {
			snprintf(
			    msg, LC_MSG_MAX, "%s", store_errmsg(b->store));
			return (rv);
		}
		/* A full batch means more is waiting: come back soon, in
		 * small steps that never stall the requests. */
		e->next_prune = now
		    + (pruned == PRUNE_PER_BATCH || runs == PRUNE_PER_BATCH
		            ? 50
		            : e->prune_interval_ms);
		b->pruned = pruned;
	}
	return (CAIRN_OK);
}

/*
 * transact applies *list in one transaction. An op that hits a storage
 * fault is taken out of the list, answered with its error, and the rest is
 * applied again from the start, so that no partial op is ever committed.
 * Returns the status of the commit.
 */
static int
transact(struct engine *e, struct engine_op **list, struct engine_batch *b,
    int64_t now, char *msg)
{
	int rv;

again:
	memset(b, 0, sizeof(*b));
	b->store = e->cfg.store;
	b->now = now;
	b->held = &e->held;
	b->held_until = TASK_TIME_NEVER;
	engine_batch_listen(b);
	if ((rv = store_begin(b->store)) != CAIRN_OK
	    || (rv = engine_prefetch(b->store, *list, now)) != CAIRN_OK
	    || (!e->cfg.read_only
	        && (rv = housekeeping(e, b, now, msg)) != CAIRN_OK)) {
		if (msg[0] == 0 || rv == CAIRN_OK) {
			snprintf(
			    msg, LC_MSG_MAX, "%s", store_errmsg(b->store));
		}
		store_rollback(b->store);
		return (rv);
	}
	for (struct engine_op **p = list; *p != NULL; p = &(*p)->next) {
		struct engine_op *op = *p;
		engine_apply(b, op, now);
		if (!engine_is_fault(op->status)
		    && (rv = store_flush(b->store)) != CAIRN_OK) {
			/* Its writes could not be sent: as if it failed. */
			op->status = rv;
			snprintf(op->msg, sizeof(op->msg), "%s",
			    store_errmsg(b->store));
		}
		if (engine_is_fault(op->status)) {
			store_rollback(b->store);
			*p = op->next;
			log_warn("request failed in storage: %s", op->msg);
			engine_answer(op);
			for (struct engine_op *o = *list; o != NULL;
			     o = o->next) {
				engine_op_clear(o);
			}
			if (b->store->io_failed) {
				snprintf(msg, LC_MSG_MAX, "%s",
				    store_errmsg(b->store));
				return (CAIRN_INTERNAL); /* fail-stop */
			}
			goto again;
		}
	}
	/* Once COMMIT is on its way, a failure leaves the outcome unknown. */
	rv = store_commit_wakeup(
	    b->store, now, &e->next_wakeup, &b->committing);
	if (rv != CAIRN_OK && !b->committing) {
		store_rollback(b->store);
	}
	if (rv != CAIRN_OK) {
		snprintf(msg, LC_MSG_MAX, "%s", store_errmsg(b->store));
	}
	return (rv);
}

/* log_failure logs a failed transaction, at most once per 10 s while the
 * store stays down, so that an outage does not flood the log. */
static void
log_failure(struct engine *e, int64_t now, const char *msg)
{
	if (now - e->last_failure_log < 10000) {
		e->failures_unlogged++;
		return;
	}
	if (e->failures_unlogged > 0) {
		log_error("transaction failed: %s (and %llu more since the "
		          "last report)",
		    msg, (unsigned long long) e->failures_unlogged);
	} else {
		log_error("transaction failed: %s", msg);
	}
	e->last_failure_log = now;
	e->failures_unlogged = 0;
}

static void
count_parked(struct engine *e)
{
	pthread_mutex_lock(&e->mu);
	e->counters.parked = engine_parked(&e->park);
	pthread_mutex_unlock(&e->mu);
}

/* refuse_writes answers the ops of *list that write, in a read-only
 * engine, and leaves the others on *list. */
static void
refuse_writes(struct engine_op **list)
{
	struct engine_op *refused = NULL, **tail = &refused;

	for (struct engine_op **p = list; *p != NULL;) {
		struct engine_op *op = *p;
		if (engine_op_reads_only(op)) {
			p = &op->next;
			continue;
		}
		*p = op->next;
		op->next = NULL;
		*tail = op;
		tail = &op->next;
	}
	answer_all_with(refused, CAIRN_FAILED_PRECONDITION,
	    "cairnd serves this store read-only (--read-only), for "
	    "inspection: requests that would change it are refused");
}

/* run_batch applies, commits, then answers: no reply before its commit. */
static void
run_batch(struct engine *e, struct engine_op *list, int64_t now, bool stopping)
{
	struct engine_batch b;
	char msg[LC_MSG_MAX] = "";
	size_t n = 0;
	int rv;

	for (struct engine_op *o = list; o != NULL; o = o->next) {
		n++;
	}
	if (e->failed) {
		answer_all_with(list, CAIRN_UNAVAILABLE,
		    "storage failed earlier; cairnd is stopping and takes no "
		    "more requests");
		return;
	}
	if (e->cfg.read_only) {
		refuse_writes(&list);
		if (list == NULL) {
			return; /* no transaction for nothing to read */
		}
	}
	uint64_t t0 = metrics_clock();
	rv = transact(e, &list, &b, now, msg);
	if (e->cfg.read_only) {
		e->next_wakeup = TASK_TIME_NEVER; /* no timers on a copy */
	}
	e->cfg.store->notes = NULL; /* b's notes end with its transaction */
	bool fatal = engine_commit_is_fatal(e->cfg.store, rv);
	metrics_commit(n, t0, rv == CAIRN_OK && !fatal);
	pthread_mutex_lock(&e->mu);
	e->counters.ops += n;
	if (rv == CAIRN_OK && !fatal) {
		e->counters.commits++;
		e->counters.expired += b.expired;
		e->counters.pruned += b.pruned;
	} else {
		e->counters.failed_commits++;
	}
	e->failed = fatal;
	pthread_mutex_unlock(&e->mu);
	if (fatal) {
		/* Fail-stop: never commit again on a handle that had an
		 * I/O error; whatever this batch did may or may not be on
		 * disk, and its replies say so. */
		char text[LC_MSG_MAX + 96];
		log_error("storage failure, stopping: %s", msg);
		snprintf(text, sizeof(text),
		    "storage failure, the outcome is unknown; cairnd is "
		    "stopping: %s",
		    msg[0] != 0 ? msg : store_errmsg(e->cfg.store));
		answer_all_with(list, CAIRN_UNAVAILABLE, text);
		if (e->cfg.on_fatal != NULL) {
			e->cfg.on_fatal(e->cfg.fatal_arg);
		}
		return;
	}
	if (rv != CAIRN_OK) {
		char text[LC_MSG_MAX + 64];
		log_failure(e, now, msg);
		snprintf(text, sizeof(text),
		    b.committing
		        ? "storage failure, the outcome is unknown: %s"
		        : "storage unavailable, nothing was changed: %s",
		    msg);
		e->next_wakeup = now + 1000;
		answer_all_with(list,
		    rv == CAIRN_RESOURCE_EXHAUSTED ? CAIRN_RESOURCE_EXHAUSTED
		                                   : CAIRN_UNAVAILABLE,
		    text);
		return;
	}
	/* A lease that its queue's limits held back tries again when they
	 * may let it (the rate limit's next token), if nothing else wakes it
	 * first. */
	if (b.held_until < e->next_wakeup) {
		e->next_wakeup = b.held_until;
	}
	for (struct engine_op *o = list; o != NULL; o = o->next) {
		engine_binds_note(&e->binds, o, now);
	}
	if (b.schedules_changed) {
		e->next_sched = 0; /* its next tick may come before the rest */
	}
	engine_park_settle(&e->park, list, now, stopping);
	engine_park_wake(&e->park, &b);
	if (e->park.parked[ENGINE_PARK_DUE].n == 0) {
		memset(&e->held, 0, sizeof(e->held)); /* nobody is held */
	}
	count_parked(e);
}

static int64_t
next_timer(struct engine *e)
{
	int64_t t
	    = e->next_wakeup < e->next_prune ? e->next_wakeup : e->next_prune;

	t = e->binds.next_release < t ? e->binds.next_release : t;
	t = e->next_sched < t ? e->next_sched : t;
	return (engine_park_next_timer(&e->park, t));
}

/* wait_for_work sleeps until an op arrives, a timer is due, or a kick.
 * Called and returns with mu held. */
static void
wait_for_work(struct engine *e)
{
	while (e->head == NULL && e->park.woken.head == NULL && !e->stopping
	    && !e->kicked && e->ncl == 0) {
		int64_t now = engine_now(e);
		int64_t until = next_timer(e);
		if (until <= now) {
			return;
		}
		int64_t ms = until - now;
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ms = ms > 3600000 ? 3600000 : ms;
		ts.tv_sec += ms / 1000;
		ts.tv_nsec += (ms % 1000) * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&e->cv, &e->mu, &ts);
	}
}

/* take_incoming moves up to max_ops_per_commit submitted ops onto list and
 * starts the wait of long-polls. Called with mu held. */
static void
take_incoming(struct engine *e, struct engine_list *list, int64_t now)
{
	uint32_t n = 0;

	while (e->head != NULL && n++ < e->cfg.max_ops_per_commit) {
		struct engine_op *op = e->head;
		e->head = op->next;
		/* A read-only store never changes: nothing to wait for. */
		int64_t wait = e->cfg.read_only ? 0 : engine_op_wait_ms(op);
		wait = wait > e->cfg.max_wait_ms ? e->cfg.max_wait_ms : wait;
		op->wait_until = wait > 0 ? now + wait : 0;
		engine_list_push(list, op);
	}
	if (e->head == NULL) {
		e->tail = NULL;
	}
}

/* conns_closed takes in the connections that closed (mu held, released
 * while it works): their parked leases answer empty, their bound leases
 * wait out the grace period. */
static void
conns_closed(struct engine *e, int64_t now)
{
	uint32_t *closed = e->closed;
	size_t n = e->ncl;

	if (n == 0) {
		return;
	}
	e->closed = NULL;
	e->ncl = e->capcl = 0;
	pthread_mutex_unlock(&e->mu);
	for (size_t i = 0; i < n; i++) {
		engine_binds_close(&e->binds, closed[i], now);
		engine_park_drop_conn(&e->park, closed[i]);
	}
	free(closed);
	pthread_mutex_lock(&e->mu);
}

/* drop_dead_leases answers empty, without applying them, the leases on
 * list that came on a connection that has closed: what they took would
 * reach nobody and stay leased until its heartbeat timeout. */
static void
drop_dead_leases(struct engine *e, struct engine_list *list)
{
	struct engine_op *op = engine_list_take(list);

	while (op != NULL) {
		struct engine_op *next = op->next;
		enum engine_park k = engine_op_class(op->kind)->park;
		if ((k == ENGINE_PARK_DUE || k == ENGINE_PARK_RUNNABLE)
		    && engine_binds_closed(&e->binds, op->conn)) {
			op->status = CAIRN_OK;
			engine_answer(op);
		} else {
			engine_list_push(list, op);
		}
		op = next;
	}
}

static void *
engine_main(void *arg)
{
	struct engine *e = arg;

	pthread_mutex_lock(&e->mu);
	for (;;) {
		wait_for_work(e);
		bool stopping = e->stopping;
		int64_t now = engine_now(e);
		struct engine_list list = { 0 };
		conns_closed(e, now);
		engine_list_append(&list, &e->park.woken);
		e->kicked = false;
		take_incoming(e, &list, now);
		bool more = e->head != NULL;
		struct engine_batch notified = e->notified;
		memset(&e->notified, 0, sizeof(e->notified));
		pthread_mutex_unlock(&e->mu);

		engine_park_wake(&e->park, &notified);
		if (now >= e->next_wakeup) {
			/* A delayed task came due or a lease ended. */
			engine_park_wake_leases(&e->park);
			e->next_wakeup = TASK_TIME_NEVER;
		}
		engine_park_expire(&e->park, now, stopping);
		engine_list_append(&list, &e->park.woken);
		drop_dead_leases(e, &list);
		engine_binds_due(&e->binds, now, &list);
		run_batch(e, engine_list_take(&list), now, stopping);

		pthread_mutex_lock(&e->mu);
		if (stopping && !more && e->head == NULL
		    && e->park.woken.n + engine_parked(&e->park) == 0) {
			break;
		}
	}
	pthread_mutex_unlock(&e->mu);
	return (NULL);
}

int
engine_start(struct engine **out, const struct engine_config *cfg)
{
	struct engine *e = calloc(1, sizeof(*e));
	pthread_condattr_t ca;

	if (e == NULL) {
		return (CAIRN_RESOURCE_EXHAUSTED);
	}
	struct options d;

	options_defaults(&d);
	e->cfg = *cfg;
	if (e->cfg.clock == NULL) {
		e->cfg.clock = system_clock;
	}
	if (e->cfg.retention_ms <= 0) {
		e->cfg.retention_ms = d.retention_ms;
	}
	e->prune_interval_ms = e->cfg.retention_ms / 4;
	if (e->prune_interval_ms > PRUNE_INTERVAL_MS) {
		e->prune_interval_ms = PRUNE_INTERVAL_MS;
	}
	if (e->cfg.max_wait_ms <= 0) {
		e->cfg.max_wait_ms = d.max_wait_ms;
	}
	if (e->cfg.max_ops_per_commit == 0) {
		e->cfg.max_ops_per_commit = ENGINE_MAX_OPS_PER_COMMIT;
	}
	e->park.max = e->cfg.max_parked;
	e->binds.grace_ms = e->cfg.disconnect_grace_ms > 0
	    ? e->cfg.disconnect_grace_ms
	    : d.disconnect_grace_ms;
	e->binds.next_release = TASK_TIME_NEVER;
	e->next_wakeup = 0; /* look at the store once at start */
	e->next_prune = 0;
	e->next_sched = 0;
	if (e->cfg.read_only) {
		e->next_wakeup = e->next_prune = TASK_TIME_NEVER;
		e->next_sched = TASK_TIME_NEVER;
	}
	engine_clock_guard_init(&e->guard);
	pthread_mutex_init(&e->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&e->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&e->thread, NULL, engine_main, e) != 0) {
		engine_clock_guard_fini(&e->guard);
		pthread_cond_destroy(&e->cv);
		pthread_mutex_destroy(&e->mu);
		free(e);
		return (CAIRN_RESOURCE_EXHAUSTED);
	}
	*out = e;
	return (CAIRN_OK);
}

int
engine_submit(struct engine *e, struct engine_op *op)
{
	op->next = NULL;
	pthread_mutex_lock(&e->mu);
	if (e->stopping) {
		pthread_mutex_unlock(&e->mu);
		return (CAIRN_UNAVAILABLE);
	}
	if (e->tail != NULL) {
		e->tail->next = op;
	} else {
		e->head = op;
	}
	e->tail = op;
	pthread_cond_signal(&e->cv);
	pthread_mutex_unlock(&e->mu);
	return (CAIRN_OK);
}

void
engine_notify_due(struct engine *e, const char *queue)
{
	pthread_mutex_lock(&e->mu);
	if (queue[0] == '@') {
		engine_batch_made_ready(
		    &e->notified, queue + 1, UINT32_MAX / 2);
	} else if (queue[0] == '!') {
		e->notified.runs_finished = true;
	} else {
		engine_batch_made_due(&e->notified, queue, UINT32_MAX / 2);
	}
	e->kicked = true;
	pthread_cond_signal(&e->cv);
	pthread_mutex_unlock(&e->mu);
}

void
engine_conn_closed(struct engine *e, uint32_t conn)
{
	pthread_mutex_lock(&e->mu);
	if (e->ncl == e->capcl) {
		size_t cap = e->capcl == 0 ? 16 : e->capcl * 2;
		uint32_t *v = realloc(e->closed, cap * sizeof(*v));
		if (v == NULL) {
			/* Its leases end at their heartbeat timeout. */
			pthread_mutex_unlock(&e->mu);
			return;
		}
		e->closed = v;
		e->capcl = cap;
	}
	e->closed[e->ncl++] = conn;
	pthread_cond_signal(&e->cv);
	pthread_mutex_unlock(&e->mu);
}

void
engine_kick(struct engine *e)
{
	pthread_mutex_lock(&e->mu);
	e->kicked = true;
	pthread_cond_signal(&e->cv);
	pthread_mutex_unlock(&e->mu);
}

void
engine_stop(struct engine *e)
{
	pthread_mutex_lock(&e->mu);
	bool was = e->stopping;
	e->stopping = true;
	pthread_cond_signal(&e->cv);
	pthread_mutex_unlock(&e->mu);
	if (!was) {
		pthread_join(e->thread, NULL);
	}
}

void
engine_free(struct engine *e)
{
	if (e == NULL) {
		return;
	}
	engine_stop(e);
	engine_binds_free(&e->binds);
	free(e->closed);
	engine_clock_guard_fini(&e->guard);
	pthread_cond_destroy(&e->cv);
	pthread_mutex_destroy(&e->mu);
	free(e);
}

void
engine_get_counters(struct engine *e, struct engine_counters *c)
{
	pthread_mutex_lock(&e->mu);
	*c = e->counters;
	pthread_mutex_unlock(&e->mu);
}
