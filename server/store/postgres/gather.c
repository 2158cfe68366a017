/*
 * store/postgres/gather.c - writes that need no answer (keyless inserts,
 * saves, history events), gathered per kind and sent as one statement per
 * kind.
 *
 * PostgreSQL spends far more on a statement than on a row: a Lease of 100
 * tasks made 100 saves and 100 event inserts, each its own statement. So
 * these writes are kept here, each kind's rows as the columns of binary
 * arrays, and sent when the engine ends a request (store_ops.flush), before
 * any other statement (pg_send, so that every read sees them), or when a
 * kind holds PG_GATHER_MAX_ROWS. One row goes as the single-row statement
 * it always was; more go as one INSERT or UPDATE over unnest() of the
 * arrays. Kinds are sent in the order insert, save, event: a save may be
 * of a task inserted in the same request, and events depend on nothing.
 *
 * A save of a task already gathered sends the gathered rows first: one
 * multi-row UPDATE must not name a row twice.
 *
 * Failure: rows that cannot be sent never stay behind in a transaction
 * that could still commit: a statement that failed aborts it in
 * PostgreSQL, and a row that cannot even be built closes the connection.
 */
#include <stdlib.h>
#include <string.h>

#include "store/postgres/postgres.h"

#define ARRAY_HEAD       20 /* ndim, flags, element type, length, lower bound */
#define OID_BYTEA        17
#define OID_TEXT         25
#define GATHER_MAX_BYTES (4u << 20)
#define KEEP_BYTES       (256u << 10) /* a column's buffer kept when empty */

/* How each kind's rows are sent: the single-row statement, the one over
 * arrays (the same parameters, each as an array), and which parameters
 * are bytea (bit i for $i+1); all others go as text, as they do alone. */
static const struct {
	enum pg_stmt one, many;
	int ncols;
	uint32_t bytea;
	const char *what;
} shapes[PG_GATHER_COUNT_] = {
	[PG_GATHER_INSERT]
	= { PG_INSERT_ID, PG_INSERT_MANY, 15, 1u << 1, "insert" },
	[PG_GATHER_SAVE]
	= { PG_SAVE, PG_SAVE_MANY, 17, 1u << 4 | 1u << 5, "save" },
	[PG_GATHER_EVENT]
	= { PG_ADD_EVENT, PG_ADD_EVENT_MANY, 7, 0, "add event" },
};

static void
put_be32(char *p, uint32_t v)
{
	p[0] = (char) (v >> 24);
	p[1] = (char) (v >> 16);
	p[2] = (char) (v >> 8);
	p[3] = (char) v;
}

static uint32_t
get_be32(const char *p)
{
	return ((uint32_t) (uint8_t) p[0] << 24
	    | (uint32_t) (uint8_t) p[1] << 16 | (uint32_t) (uint8_t) p[2] << 8
	    | (uint32_t) (uint8_t) p[3]);
}

static bool
reserve(struct pg_column *c, size_t more)
{
	if (c->len + more <= c->cap) {
		return (true);
	}
	size_t cap = c->cap > 0 ? c->cap : 256;
	while (cap < c->len + more) {
		cap *= 2;
	}
	char *b = realloc(c->buf, cap);
	if (b == NULL) {
		return (false);
	}
	c->buf = b;
	c->cap = cap;
	return (true);
}

/* empty resets g to no rows, keeping its buffers for the next request,
 * except one that a request of large payloads made large. */
static void
empty(struct pg_gather *g)
{
	g->rows = 0;
	g->bytes = 0;
	for (int i = 0; i < PG_MAX_PARAMS; i++) {
		struct pg_column *c = &g->cols[i];
		if (c->cap > KEEP_BYTES) {
			free(c->buf);
			c->buf = NULL;
			c->cap = 0;
		}
		c->len = ARRAY_HEAD;
	}
	if (g->scratch_cap > KEEP_BYTES) {
		free(g->scratch);
		g->scratch = NULL;
		g->scratch_cap = 0;
	}
}

void
pg_gather_drop(struct store_pg *q)
{
	for (int k = 0; k < PG_GATHER_COUNT_; k++) {
		empty(&q->gather[k]);
	}
}

void
pg_gather_free(struct store_pg *q)
{
	for (int k = 0; k < PG_GATHER_COUNT_; k++) {
		for (int i = 0; i < PG_MAX_PARAMS; i++) {
			free(q->gather[k].cols[i].buf);
		}
		free(q->gather[k].ids);
		free(q->gather[k].scratch);
	}
	memset(q->gather, 0, sizeof(q->gather));
}

bool
pg_gathered(const struct store_pg *q)
{
	for (int k = 0; k < PG_GATHER_COUNT_; k++) {
		if (q->gather[k].rows > 0) {
			return (true);
		}
	}
	return (false);
}

/* holds says whether g's rows include task id. */
static bool
holds(const struct pg_gather *g, uint64_t id)
{
	for (int i = 0; i < g->rows; i++) {
		if (g->ids[i] == id) {
			return (true);
		}
	}
	return (false);
}

/* append adds one row (its parameters as the statement alone takes
 * them) to g's columns. */
static bool
append(struct pg_gather *g, int ncols, uint64_t id, const struct pg_params *p)
{
	if ((size_t) g->rows == g->idcap) {
		size_t cap = g->idcap > 0 ? g->idcap * 2 : 64;
		uint64_t *ids = realloc(g->ids, cap * sizeof(*ids));
		if (ids == NULL) {
			return (false);
		}
		g->ids = ids;
		g->idcap = cap;
	}
	for (int i = 0; i < ncols; i++) {
		struct pg_column *c = &g->cols[i];
		const char *v = p->v[i];
		size_t n = v == NULL ? 0
		    : p->fmt[i] == 1 ? (size_t) p->len[i]
		                     : strlen(v);
		if (c->len < ARRAY_HEAD) {
			c->len = ARRAY_HEAD; /* a column never used yet */
		}
		if (!reserve(c, 4 + n)) {
			return (false); /* the caller drops the row */
		}
		put_be32(
		    c->buf + c->len, v == NULL ? UINT32_MAX : (uint32_t) n);
		memcpy(c->buf + c->len + 4, v != NULL ? v : "", n);
		c->len += 4 + n;
		g->bytes += 4 + n;
	}
	g->ids[g->rows++] = id;
	return (true);
}

/* truncate_to takes back a row that append could not finish. */
static void
truncate_to(struct pg_gather *g, const size_t *lens, size_t bytes)
{
	for (int i = 0; i < PG_MAX_PARAMS; i++) {
		g->cols[i].len = lens[i];
	}
	g->bytes = bytes;
}

/* send_one sends g's only row as the single-row statement: text values
 * NUL-terminated in g's scratch buffer. */
static int
send_one(struct store_pg *q, int kind, struct pg_gather *g)
{
	struct pg_params p = { 0 };
	size_t need = 0;

	for (int i = 0; i < shapes[kind].ncols; i++) {
		need += g->cols[i].len - ARRAY_HEAD + 1;
	}
	if (need > g->scratch_cap) {
		char *b = realloc(g->scratch, need);
		if (b == NULL) {
			/* The row is lost: the transaction must not commit
			 * without it. */
			pg_lost(q, "out of memory");
			return (
			    store_seterr(&q->base, CAIRN_RESOURCE_EXHAUSTED,
			        "postgres: %s: no memory", shapes[kind].what));
		}
		g->scratch = b;
		g->scratch_cap = need;
	}
	char *s = g->scratch;
	for (int i = 0; i < shapes[kind].ncols; i++) {
		const char *e = g->cols[i].buf + ARRAY_HEAD;
		uint32_t n = get_be32(e);
		if (n == UINT32_MAX) {
			pg_p_null(&p);
		} else if (shapes[kind].bytea & (1u << i)) {
			pg_p_bytes(&p, e + 4, n);
		} else {
			memcpy(s, e + 4, n);
			s[n] = 0;
			pg_p_text(&p, s);
			s += n + 1;
		}
	}
	return (pg_defer(q, shapes[kind].one, &p, shapes[kind].what));
}

/* send_many sends g's rows as one statement over arrays. */
static int
send_many(struct store_pg *q, int kind, struct pg_gather *g)
{
	struct pg_params p = { 0 };

	for (int i = 0; i < shapes[kind].ncols; i++) {
		char *h = g->cols[i].buf;
		bool bytea = (shapes[kind].bytea & (1u << i)) != 0;
		put_be32(h, 1);     /* one dimension */
		put_be32(h + 4, 0); /* flags: the server finds the NULLs */
		put_be32(h + 8, bytea ? OID_BYTEA : OID_TEXT);
		put_be32(h + 12, (uint32_t) g->rows);
		put_be32(h + 16, 1); /* lower bound */
		p.v[i] = h;
		p.len[i] = (int) g->cols[i].len;
		p.fmt[i] = 1;
	}
	p.n = shapes[kind].ncols;
	q->many_sent++;
	return (pg_defer(q, shapes[kind].many, &p, shapes[kind].what));
}

int
pg_flush(struct store_pg *q)
{
	int rv = CAIRN_OK;

	if (q->flushing || !pg_gathered(q)) {
		return (CAIRN_OK);
	}
	q->flushing = true;
	for (int k = 0; k < PG_GATHER_COUNT_ && rv == CAIRN_OK; k++) {
		struct pg_gather *g = &q->gather[k];
		if (g->rows == 1) {
			rv = send_one(q, k, g);
		} else if (g->rows > 1) {
			rv = send_many(q, k, g);
		}
		empty(g);
	}
	q->flushing = false;
	if (rv != CAIRN_OK) {
		/* A statement failed, so the transaction cannot commit
		 * (PostgreSQL skips what follows it in the pipeline), or
		 * the connection is gone: the rest need not be sent. */
		pg_gather_drop(q);
	}
	return (rv);
}

int
pg_gather(struct store_pg *q, enum pg_gather_kind kind, uint64_t id,
    const struct pg_params *p)
{
	struct pg_gather *g = &q->gather[kind];
	size_t lens[PG_MAX_PARAMS], bytes = g->bytes;
	int rv;

	if (q->conn == NULL) {
		return (store_seterr(&q->base, CAIRN_UNAVAILABLE,
		    "postgres: %s: not connected (%s)", shapes[kind].what,
		    q->lost));
	}
	if (kind == PG_GATHER_SAVE && holds(g, id)
	    && (rv = pg_flush(q)) != CAIRN_OK) {
		return (rv);
	}
	for (int i = 0; i < PG_MAX_PARAMS; i++) {
		lens[i] = g->cols[i].len;
	}
	if (!append(g, shapes[kind].ncols, id, p)) {
		truncate_to(g, lens, bytes);
		return (store_seterr(&q->base, CAIRN_RESOURCE_EXHAUSTED,
		    "postgres: %s: no memory", shapes[kind].what));
	}
	if (g->rows >= PG_GATHER_MAX_ROWS || g->bytes >= GATHER_MAX_BYTES) {
		return (pg_flush(q));
	}
	return (CAIRN_OK);
}
