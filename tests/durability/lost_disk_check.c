/*
 * lost_disk_check.c - what the lost-disk harness checks in a restored
 * store and on the server restarted from it (lost_disk.h).
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lost_disk.h"

#define LIFE_LEASE_MS 5000 /* leases of the drain: never expire in it */
#define DRAIN_MS      20000
#define MAX_FENCE     400 /* stale completions tried per round */

static void
text(sqlite3_stmt *st, int col, char *out, size_t len)
{
	snprintf(out, len, "%.*s", sqlite3_column_bytes(st, col),
	    sqlite3_column_blob(st, col) != NULL
	        ? (const char *) sqlite3_column_blob(st, col)
	        : "");
}

static uint64_t
scalar(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	uint64_t v = 1; /* a query that fails counts as a duplicate */

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK
	    && sqlite3_step(st) == SQLITE_ROW) {
		v = (uint64_t) sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	return (v);
}

struct ld_row *
ld_rows(const char *path, size_t *n, uint64_t *dups)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	struct ld_row *rows = NULL;
	size_t cap = 0;

	*n = 0;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK
	    || sqlite3_prepare_v2(db,
	           "SELECT id, state, attempt, payload, result, lease_token "
	           "FROM tasks ORDER BY id",
	           -1, &st, NULL)
	        != SQLITE_OK) {
		sqlite3_close(db);
		return (NULL);
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 256;
			if ((rows = realloc(rows, cap * sizeof(*rows)))
			    == NULL) {
				abort();
			}
		}
		struct ld_row *r = &rows[(*n)++];
		r->id = (uint64_t) sqlite3_column_int64(st, 0);
		r->state = sqlite3_column_int(st, 1);
		r->attempt = sqlite3_column_int(st, 2);
		text(st, 3, r->payload, sizeof(r->payload));
		text(st, 4, r->result, sizeof(r->result));
		text(st, 5, r->token, sizeof(r->token));
	}
	sqlite3_finalize(st);
	*dups = scalar(db, CRASH_SQL_DUP_KEYS)
	    + scalar(db, CRASH_SQL_DUP_PAYLOADS);
	sqlite3_close(db);
	if (rows == NULL) {
		rows = calloc(1, sizeof(*rows)); /* an empty store */
	}
	return (rows);
}

const struct ld_row *
ld_row_find(const struct ld_row *rows, size_t n, uint64_t id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (rows[mid].id == id) {
			return (&rows[mid]);
		}
		if (rows[mid].id < id) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return (NULL);
}

/* delivery_of finds the lease of task id with token (h->mu held). */
static const struct delivery *
delivery_of(const struct history *h, uint64_t id, const char *token)
{
	for (size_t i = 0; i < h->ndel; i++) {
		if (h->del[i].id == id
		    && strcmp(h->del[i].token, token) == 0) {
			return (&h->del[i]);
		}
	}
	return (NULL);
}

static bool
completed_with(const struct ld_row *r, const char *token)
{
	char want[48];

	snprintf(want, sizeof(want), "done:%s", token);
	return (r != NULL && r->state == CAIRN_SUCCEEDED
	    && strcmp(r->result, want) == 0);
}

/* never_had counts rows in a state no client saw the task reach: a task
 * no producer sent, a completion no worker sent, an attempt that is not
 * the attempt of its lease, or one past the limit. */
static uint64_t
never_had(const struct history *h, const struct ld_row *r)
{
	int p;
	unsigned seq;
	char end;

	if (sscanf(r->payload, "p%d-%u%c", &p, &seq, &end) != 2
	    || r->attempt > CRASH_MAX_ATTEMPTS) {
		return (1);
	}
	if (r->state == CAIRN_SUCCEEDED) {
		const struct delivery *d = strncmp(r->result, "done:", 5) == 0
		    ? delivery_of(h, r->id, r->result + 5)
		    : NULL;
		if (d == NULL || d->end_send == 0
		    || (int) d->attempt != r->attempt) {
			return (1);
		}
	}
	if (r->state == CAIRN_ACTIVE) {
		/* A lease whose answer was lost with the machine is unknown
		 * to the workers; a known one must match its attempt. */
		const struct delivery *d = delivery_of(h, r->id, r->token);
		if (d != NULL && (int) d->attempt != r->attempt) {
			return (1);
		}
	}
	return (r->state == CAIRN_FAILED && r->attempt != CRASH_MAX_ATTEMPTS);
}

void
ld_check_restored(
    struct history *h, const struct ld_row *rows, size_t n, struct ld_round *r)
{
	int64_t oldest = 0, first_missing = INT64_MAX;

	pthread_mutex_lock(&h->mu);
	r->acked_enqueues = h->nenq;
	r->acked_completions = h->ndone;
	for (size_t i = 0; i < h->nenq; i++) {
		const struct enqueued *e = &h->enq[i];
		if (ld_row_find(rows, n, e->id) != NULL) {
			continue;
		}
		r->lost_enqueues++;
		oldest = oldest == 0 || e->acked < oldest ? e->acked : oldest;
		first_missing
		    = e->acked < first_missing ? e->acked : first_missing;
	}
	for (size_t i = 0; i < h->ndone; i++) {
		const struct completion *c = &h->done[i];
		if (completed_with(ld_row_find(rows, n, c->id), c->token)) {
			continue;
		}
		r->lost_completions++;
		oldest = oldest == 0 || c->acked < oldest ? c->acked : oldest;
		first_missing
		    = c->acked < first_missing ? c->acked : first_missing;
	}
	/* A prefix: a change first sent after another was acknowledged
	 * committed after it, so it cannot be there while the other is
	 * missing. Each such change is a hole. */
	for (size_t i = 0; first_missing != INT64_MAX && i < h->nenq; i++) {
		r->holes += h->enq[i].sent > first_missing
		    && ld_row_find(rows, n, h->enq[i].id) != NULL;
	}
	for (size_t i = 0; first_missing != INT64_MAX && i < h->ndone; i++) {
		const struct completion *c = &h->done[i];
		r->holes += c->sent > first_missing
		    && completed_with(ld_row_find(rows, n, c->id), c->token);
	}
	for (size_t i = 0; i < n; i++) {
		r->never_had += never_had(h, &rows[i]);
	}
	/* Tasks whose Enqueue was committed but never answered. */
	r->unacked_kept = n;
	for (size_t i = 0; i < h->nenq; i++) {
		r->unacked_kept -= ld_row_find(rows, n, h->enq[i].id) != NULL;
	}
	pthread_mutex_unlock(&h->mu);
	r->rows = n;
	r->window_ms = oldest != 0 ? r->fault - oldest : 0;
}

/* fence sends the Complete of every known lease again: answered OK only
 * when the restored task holds that completion (a repeat); refused when
 * the lease is not the task's live one. */
static void
fence(cairn_client *c, struct history *h, const struct ld_row *rows, size_t n,
    struct ld_round *r)
{
	pthread_mutex_lock(&h->mu);
	size_t nd = h->ndel;
	struct delivery *del = malloc((nd + 1) * sizeof(*del));
	memcpy(del, h->del, nd * sizeof(*del));
	pthread_mutex_unlock(&h->mu);

	for (size_t i = 0, tried = 0; i < nd && tried < MAX_FENCE; i++) {
		const struct ld_row *row = ld_row_find(rows, n, del[i].id);
		char result[48];
		if (row != NULL && row->state == CAIRN_ACTIVE
		    && strcmp(row->token, del[i].token) == 0) {
			continue; /* still its live lease: may complete */
		}
		tried++;
		snprintf(result, sizeof(result), "done:%s", del[i].token);
		int rv = cairn_complete(
		    c, del[i].id, del[i].token, result, strlen(result));
		if (completed_with(row, del[i].token)) {
			r->repeat_refused += rv != CAIRN_OK;
		} else if (rv == CAIRN_OK) {
			r->stale_accepted++;
		} else if (rv != CAIRN_FAILED_PRECONDITION
		    && rv != CAIRN_NOT_FOUND) {
			fprintf(stderr, "lost_disk: stale complete: %s\n",
			    cairn_strerror(rv));
			r->errors++;
		}
	}
	free(del);
}

/* known_token says whether a worker held token on task id before. */
static bool
known_token(struct history *h, uint64_t id, const char *token)
{
	pthread_mutex_lock(&h->mu);
	bool known = delivery_of(h, id, token) != NULL;
	pthread_mutex_unlock(&h->mu);
	return (known);
}

/* drain leases every live task and completes it: the first new lease of
 * each must be the next attempt with a token never seen. */
static void
drain(cairn_client *c, struct history *h, const struct ld_row *rows, size_t n,
    struct ld_round *r)
{
	const char *q = CRASH_QUEUE;
	cairn_lease_options o = { .max_tasks = 32,
		.wait_ms = 200,
		.worker_id = "after-restore",
		.lease_timeout_ms = LIFE_LEASE_MS };
	uint64_t *seen = calloc(n + 1, sizeof(*seen));
	size_t nseen = 0;
	int64_t until = mono_ms() + DRAIN_MS;
	uint64_t left = 1;

	while (left > 0 && mono_ms() < until) {
		cairn_task **ts;
		size_t k;
		if (cairn_lease(c, &q, 1, &o, &ts, &k) != CAIRN_OK) {
			r->errors++;
			break;
		}
		for (size_t i = 0; i < k; i++) {
			const cairn_task *t = ts[i];
			const struct ld_row *row = ld_row_find(rows, n, t->id);
			bool first = true;
			for (size_t j = 0; j < nseen; j++) {
				first &= seen[j] != t->id;
			}
			if (first && nseen < n) {
				seen[nseen++] = t->id;
			}
			if (row == NULL
			    || (first && (int) t->attempt != row->attempt + 1)
			    || known_token(h, t->id, t->lease_token)) {
				r->bad_release++;
			}
			char res[48];
			snprintf(res, sizeof(res), "drain:%s", t->lease_token);
			if (cairn_complete(
			        c, t->id, t->lease_token, res, strlen(res))
			    != CAIRN_OK) {
				r->bad_release++;
			}
		}
		cairn_tasks_free(ts, k);
		cairn_queue_stats *st;
		size_t ns;
		if (k == 0 && cairn_stats(c, q, &st, &ns) == CAIRN_OK) {
			left = ns > 0 ? st[0].pending + st[0].active : 0;
			cairn_stats_free(st, ns);
		}
	}
	r->not_drained += left;
	free(seen);
}

void
ld_check_lifecycle(struct history *h, const struct ld_row *rows, size_t n,
    const char *url, struct ld_round *r)
{
	cairn_client_options co = { .timeout_ms = 5000 };
	cairn_client *c;

	if (cairn_client_open(&c, url, &co, NULL, 0) != CAIRN_OK) {
		r->errors++;
		return;
	}
	fence(c, h, rows, n, r);
	drain(c, h, rows, n, r);
	cairn_client_close(c);
}

void
ld_check_final(const struct ld_row *rows, size_t n, const struct ld_row *final,
    size_t nf, struct ld_round *r)
{
	if (nf != n) {
		r->not_drained += nf > n ? nf - n : n - nf;
	}
	for (size_t i = 0; i < nf; i++) {
		const struct ld_row *f = &final[i];
		const struct ld_row *old = ld_row_find(rows, n, f->id);
		bool finished = f->state == CAIRN_SUCCEEDED
		    || (f->state == CAIRN_FAILED
		        && f->attempt == CRASH_MAX_ATTEMPTS);
		r->not_drained += !finished;
		/* A task finished before the restore stays as it was. */
		if (old != NULL
		    && (old->state == CAIRN_SUCCEEDED
		        || old->state == CAIRN_FAILED)
		    && (old->state != f->state
		        || strcmp(old->result, f->result) != 0)) {
			r->bad_release++;
		}
	}
}
