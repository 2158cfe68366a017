/*
 * crash.h - the crash harness: producers and workers under load against
 * a real cairnd, the server killed (kill -9) or its power cut (faultfs) at
 * random moments and restarted, and a checker over what the clients saw.
 *
 * Invariants (each must count 0): acknowledged enqueues lost,
 * acknowledged completions reverted (or their task delivered again), a
 * stale lease token accepted, two valid leases on one task at once,
 * attempts beyond max_attempts, two tasks for one idempotency key (or,
 * for tasks without a key, for one payload: a resent Enqueue made twice).
 * Duplicate deliveries (at least once) are counted and reported.
 */
#ifndef CAIRN_CRASH_H
#define CAIRN_CRASH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "dur_util.h"

#define CRASH_QUEUE        "crash"
#define CRASH_LEASE_MS     1500 /* lease timeout of every lease */
#define CRASH_MAX_ATTEMPTS 6

/* The final checks' queries, the same on either store: idempotency keys
 * and payloads (unique per task in the load) held by more than one task. */
#define CRASH_SQL_DUP_KEYS                                                    \
	"SELECT count(*) FROM (SELECT 1 FROM tasks WHERE idempotency_key "    \
	"IS NOT NULL GROUP BY queue, idempotency_key HAVING count(*) > 1) d"
#define CRASH_SQL_DUP_PAYLOADS                                                \
	"SELECT count(*) FROM (SELECT 1 FROM tasks GROUP BY payload HAVING "  \
	"count(*) > 1) d"

struct delivery {
	uint64_t id;
	uint32_t attempt;
	char token[40];
	int64_t grant;    /* server time: deadline - lease timeout */
	int64_t deadline; /* latest acknowledged deadline */
	int64_t end_send; /* a Complete or Fail for it was first sent then */
	bool failed;      /* ... a Fail, answered OK or not at all */
};

struct okcall { /* a Heartbeat, Complete or Fail answered OK */
	uint64_t id;
	char token[40];
	int64_t sent;
};

struct completion {
	uint64_t id;
	char token[40];
	int64_t sent; /* first sent: the earliest it can have committed */
	int64_t acked;
	bool reverted; /* counted already */
};

struct enqueued {
	uint64_t id;
	int64_t sent; /* first sent, as above */
	int64_t acked;
	bool lost; /* counted already */
};

/* What the clients saw, under mu. */
struct history {
	pthread_mutex_t mu;
	struct enqueued *enq; /* acknowledged tasks */
	size_t nenq, capenq;
	struct delivery *del;
	size_t ndel, capdel;
	struct okcall *ok;
	size_t nok, capok;
	struct completion *done;
	size_t ndone, capdone;
	uint64_t fails_acked;
	uint64_t unknown_enqueues; /* no answer: may or may not exist */
	uint64_t dead_on_arrival;  /* replayed leases that had ended */
};

struct counts {
	uint64_t acked_enqueues, acked_completions, deliveries;
	uint64_t duplicate_deliveries;
	uint64_t lost, reverted, delivered_after_done, stale_accepted;
	uint64_t double_leases, over_attempts, dup_keys, dup_payloads;
	uint64_t integrity_failures;
};

/* The load: threads of producers and workers (crash_load.c). */
struct load {
	const char *url;
	struct history *h;
	atomic_bool stop_producers;
	atomic_bool stop_workers;
	int nprod, nwork;
	pthread_t thr[64];
	unsigned seed;
};

void load_start(struct load *l);
void load_stop_producers(struct load *l);
void load_stop(struct load *l);
/* load_halt stops producers and workers at once, without waiting for
 * unanswered calls to be answered (the server is gone for good). */
void load_halt(struct load *l);

/* The checker (crash_check.c). */
void history_init(struct history *h);
void history_free(struct history *h);
/* history_enqueued records an acknowledged task, first sent at sent. */
void history_enqueued(struct history *h, uint64_t id, int64_t sent);
/* history_delivered records a lease; false when it must not be worked
 * (its lease had already ended: a replayed answer). */
bool history_delivered(struct history *h, uint64_t id, uint32_t attempt,
    const char *token, int64_t deadline);
/* history_end_sent records that a Complete or Fail (kind) of the lease
 * is about to be sent for the first time: from then on it may have ended,
 * whatever the answer. */
void history_end_sent(
    struct history *h, uint64_t id, const char *token, int64_t sent, int kind);
/* history_ok records a call answered OK, sent (its last attempt) at
 * sent; deadline is a heartbeat's new deadline. */
void history_ok(struct history *h, uint64_t id, const char *token,
    int64_t sent, int64_t deadline, int kind);
/* history_fail_unknown marks a Fail whose outcome stayed unknown. */
void history_fail_unknown(struct history *h, uint64_t id, const char *token);
#define CALL_HEARTBEAT 0
#define CALL_COMPLETE  1
#define CALL_FAIL      2

/* check_store compares the acknowledged history with the database (the
 * server stopped): enqueues lost and completions reverted since the last
 * check are added to c; *oldest_lost is the ack time of the oldest one
 * lost now (0: none). With final, also the duplicates of keys and
 * payloads and the attempts in the store. Returns how many were lost. */
uint64_t check_store(struct history *h, const struct dsrv *s, bool final,
    struct counts *c, int64_t *oldest_lost);

/* The store's view of one task (crash_check.c). */
struct crash_row {
	uint64_t id;
	int state;
	int attempt;
	char result[48];
};

/* crash_rows_pg reads every task of a PostgreSQL store (uri, schema) in
 * id order, and with final the duplicate counts into c
 * (crash_check_pg.c); NULL when it cannot. */
struct crash_row *crash_rows_pg(const char *uri, const char *schema,
    bool final, struct counts *c, size_t *n);

/* crash_use_postgres makes check_store read the PostgreSQL store at uri,
 * schema, instead of the server's SQLite file. */
void crash_use_postgres(const char *uri, const char *schema);

/* check_history finds the invariants that the history alone shows. */
void check_history(struct history *h, struct counts *c);

#endif /* CAIRN_CRASH_H */
