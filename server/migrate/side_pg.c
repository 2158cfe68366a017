/*
 * migrate/side_pg.c - the PostgreSQL side of `cairnd migrate`.
 *
 * Locking: every cairnd that may write a schema holds its serve lock
 * (PG_SERVE_LOCK_KEY) shared; this side takes it exclusive without
 * waiting, so a schema that a cairnd uses is refused, and no cairnd starts
 * on it until the copy is over. A source is read in one REPEATABLE READ,
 * READ ONLY transaction: one snapshot, whatever applications do meanwhile.
 * Rows are read one at a time (single-row mode), and written with COPY.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migrate/internal.h"
#include "store/postgres/postgres.h"

/* Type oids (pg_type.h), for the values of a row. */
enum {
	OID_BOOL = 16,
	OID_BYTEA = 17,
	OID_INT8 = 20,
	OID_INT2 = 21,
	OID_INT4 = 23,
	OID_FLOAT4 = 700,
	OID_FLOAT8 = 701,
};

struct side_pg {
	struct mig_side base;
	PGconn *conn;
	char *schema;
	/* load: whether each column is bytea, and the line being made. */
	bool *bytea;
	size_t ncols;
	char *line;
	size_t cap, len;
};

#define P(s) ((struct side_pg *) (s))

static int
fail_pg(struct side_pg *q, const char *what)
{
	char msg[MIG_ERR_MAX];
	size_t n;

	snprintf(msg, sizeof(msg), "%s", PQerrorMessage(q->conn));
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' ')) {
		msg[--n] = 0;
	}
	return (mig_fail(
	    &q->base, "postgres schema %s: %s: %s", q->schema, what, msg));
}

/* query runs sql with up to two text parameters and expects rows
 * (tuples) or a command; the caller clears *out. */
static int
query(struct side_pg *q, const char *sql, const char *p1, const char *p2,
    const char *what, PGresult **out)
{
	const char *params[2] = { p1, p2 };
	int np = p2 != NULL ? 2 : p1 != NULL ? 1 : 0;
	PGresult *r
	    = PQexecParams(q->conn, sql, np, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);

	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		PQclear(r);
		return (fail_pg(q, what));
	}
	*out = r;
	return (0);
}

static int
run(struct side_pg *q, const char *sql, const char *what)
{
	PGresult *r;

	if (query(q, sql, NULL, NULL, what, &r) != 0) {
		return (-1);
	}
	PQclear(r);
	return (0);
}

static void
pg_side_close(struct mig_side *s)
{
	struct side_pg *q = P(s);

	if (q == NULL) {
		return;
	}
	PQfinish(q->conn); /* ends the transaction and the lock */
	free(q->schema);
	free(q->bytea);
	free(q->line);
	free(q);
}

/* take_lock takes the serve lock of the schema, exclusive. It waits a
 * little: a session that has just closed (the store's own, which made the
 * target's schema) may hold it for a moment; a running cairnd holds it
 * for good. */
static int
take_lock(struct side_pg *q)
{
	const char *values[1] = { q->schema };
	PGresult *r;
	const char *code;
	bool busy;

	if (run(q, "SET lock_timeout = '3s'", "configuring") != 0) {
		return (-1);
	}
	r = PQexecParams(q->conn,
	    "SELECT pg_advisory_lock(" PG_SERVE_LOCK_KEY ")", 1, NULL, values,
	    NULL, NULL, 0);
	code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	busy = code != NULL && strcmp(code, "55P03") == 0;
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		return (busy ? mig_fail(&q->base,
		            "postgres schema %s is in use by a running "
		            "cairnd: stop every cairnd on it first, so "
		            "that nothing writes it during the copy",
		            q->schema)
		             : fail_pg(q, "taking the serve lock"));
	}
	PQclear(r);
	return (run(q, "RESET lock_timeout", "configuring"));
}

static int
pg_side_open(struct mig_side **out, const char *uri, const char *schema,
    bool target, char *err, size_t errlen)
{
	struct side_pg *q = calloc(1, sizeof(*q));
	char *quoted = NULL, sql[200];

	if (q == NULL || (q->schema = strdup(schema)) == NULL
	    || (quoted = pg_quote_ident(schema)) == NULL
	    || (q->conn = pg_connect(uri, "cairnd migrate")) == NULL) {
		snprintf(err, errlen, "out of memory");
		pg_side_close(q != NULL ? &q->base : NULL);
		free(quoted);
		return (-1);
	}
	q->base.ops = &mig_pg_ops;
	snprintf(sql, sizeof(sql), "SET search_path TO %s", quoted);
	free(quoted);
	if (PQstatus(q->conn) != CONNECTION_OK) {
		fail_pg(q, "connecting");
		goto fail;
	}
	/* Doubles as text, exactly (PostgreSQL 11 rounds without it). */
	if (run(q, sql, "setting search_path") != 0
	    || run(q, "SET extra_float_digits = 3", "configuring") != 0
	    || take_lock(q) != 0
	    || (!target
	        && run(q, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	               "begin")
	            != 0)) {
		goto fail;
	}
	*out = &q->base;
	return (0);
fail:
	snprintf(err, errlen, "%s", q->base.err);
	pg_side_close(&q->base);
	return (-1);
}

/* strings collects column 0 of the rows of sql into a new array. */
static int
strings(
    struct side_pg *q, const char *sql, const char *p2, char ***out, size_t *n)
{
	PGresult *r;
	char **v;
	int k;

	if (query(q, sql, q->schema, p2, "listing", &r) != 0) {
		return (-1);
	}
	k = PQntuples(r);
	if ((v = calloc((size_t) k + 1, sizeof(*v))) == NULL) {
		PQclear(r);
		return (mig_fail(&q->base, "out of memory"));
	}
	for (int i = 0; i < k; i++) {
		if ((v[i] = strdup(PQgetvalue(r, i, 0))) == NULL) {
			mig_strv_free(v, (size_t) i);
			PQclear(r);
			return (mig_fail(&q->base, "out of memory"));
		}
	}
	PQclear(r);
	*out = v;
	*n = (size_t) k;
	return (0);
}

static int
pg_side_tables(struct mig_side *s, char ***names, size_t *n)
{
	return (strings(P(s),
	    "SELECT table_name::text FROM information_schema.tables WHERE "
	    "table_schema = $1 AND table_type = 'BASE TABLE' AND "
	    "table_name <> 'schema_version' ORDER BY 1",
	    NULL, names, n));
}

static int
pg_side_columns(struct mig_side *s, const char *table, char ***cols, size_t *n)
{
	return (strings(P(s),
	    "SELECT column_name::text FROM information_schema.columns WHERE "
	    "table_schema = $1 AND table_name = $2 ORDER BY "
	    "ordinal_position",
	    table, cols, n));
}

/* column_list writes the quoted list of cols ("a", "b") into a new
 * string. */
static char *
column_list(const char *const *cols, size_t n)
{
	size_t len = 1;
	char *list, *p;

	for (size_t i = 0; i < n; i++) {
		len += strlen(cols[i]) + 4;
	}
	if ((list = p = malloc(len)) == NULL) {
		return (NULL);
	}
	*p = 0;
	for (size_t i = 0; i < n; i++) {
		p += sprintf(p, "%s\"%s\"", i > 0 ? ", " : "", cols[i]);
	}
	return (list);
}

/* sqlf formats into a new string (NULL when out of memory). */
static char *sqlf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *
sqlf(const char *fmt, ...)
{
	va_list ap;
	char *out;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (out = malloc((size_t) n + 1)) == NULL) {
		return (NULL);
	}
	va_start(ap, fmt);
	vsnprintf(out, (size_t) n + 1, fmt, ap);
	va_end(ap);
	return (out);
}

/* value reads field i of r's row 0 into v; *freed gets memory to free
 * with PQfreemem after the row. */
static int
value(struct side_pg *q, PGresult *r, int i, struct mv *v, void **freed)
{
	const char *s = PQgetvalue(r, 0, i);

	memset(v, 0, sizeof(*v));
	*freed = NULL;
	if (PQgetisnull(r, 0, i)) {
		v->type = MV_NULL;
		return (0);
	}
	switch (PQftype(r, i)) {
	case OID_BOOL:
		v->type = MV_INT;
		v->i = s[0] == 't';
		break;
	case OID_INT2:
	case OID_INT4:
	case OID_INT8:
		v->type = MV_INT;
		v->i = strtoll(s, NULL, 10);
		break;
	case OID_FLOAT4:
	case OID_FLOAT8:
		v->type = MV_REAL;
		v->r = strtod(s, NULL);
		break;
	case OID_BYTEA: {
		size_t len;
		unsigned char *b
		    = PQunescapeBytea((const unsigned char *) s, &len);
		if (b == NULL) {
			return (mig_fail(&q->base, "out of memory"));
		}
		v->type = MV_BYTES;
		v->p = b;
		v->len = len;
		*freed = b;
		break;
	}
	default:
		v->type = MV_BYTES;
		v->text = true;
		v->p = (const uint8_t *) s;
		v->len = (size_t) PQgetlength(r, 0, i);
	}
	return (0);
}

static int
pg_side_scan(struct mig_side *s, const char *table, const char *const *cols,
    size_t n, mig_row_fn fn, void *arg)
{
	struct side_pg *q = P(s);
	char *list = column_list(cols, n);
	char *sql
	    = list != NULL ? sqlf("SELECT %s FROM \"%s\"", list, table) : NULL;
	struct mv *v = calloc(n > 0 ? n : 1, sizeof(*v));
	void **freed = calloc(n > 0 ? n : 1, sizeof(*freed));
	PGresult *r;
	int rv = 0;

	if (sql == NULL || v == NULL || freed == NULL) {
		rv = mig_fail(s, "out of memory");
		goto out;
	}
	if (!PQsendQueryParams(q->conn, sql, 0, NULL, NULL, NULL, NULL, 0)
	    || !PQsetSingleRowMode(q->conn)) {
		rv = fail_pg(q, table);
		goto out;
	}
	/* Read every result to the end, even after a failure, so that the
	 * connection is ready for the next query. */
	while ((r = PQgetResult(q->conn)) != NULL) {
		ExecStatusType st = PQresultStatus(r);
		if (st == PGRES_SINGLE_TUPLE && rv == 0) {
			for (size_t i = 0; i < n && rv == 0; i++) {
				rv = value(q, r, (int) i, &v[i], &freed[i]);
			}
			rv = rv != 0 ? rv : fn(arg, v, n);
			for (size_t i = 0; i < n; i++) {
				PQfreemem(freed[i]);
				freed[i] = NULL;
			}
		} else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK
		    && rv == 0) {
			rv = fail_pg(q, table);
		}
		PQclear(r);
	}
out:
	free(list);
	free(sql);
	free(v);
	free(freed);
	return (rv);
}

static int
pg_side_begin(struct mig_side *s)
{
	return (run(P(s), "BEGIN", "begin"));
}

static int
pg_side_commit(struct mig_side *s)
{
	return (run(P(s), "COMMIT", "commit"));
}

static void
pg_side_rollback(struct mig_side *s)
{
	PQclear(PQexec(P(s)->conn, "ROLLBACK"));
}

static int
pg_side_load_start(
    struct mig_side *s, const char *table, const char *const *cols, size_t n)
{
	struct side_pg *q = P(s);
	char *list = column_list(cols, n), *sql = NULL;
	PGresult *r = NULL;
	int rv = 0;

	free(q->bytea);
	if (list == NULL
	    || (sql = sqlf("SELECT %s FROM \"%s\" LIMIT 0", list, table))
	        == NULL
	    || (q->bytea = calloc(n > 0 ? n : 1, sizeof(bool))) == NULL) {
		free(list);
		free(sql);
		return (mig_fail(s, "out of memory"));
	}
	q->ncols = n;
	rv = query(q, sql, NULL, NULL, table, &r);
	free(sql);
	if (rv != 0) {
		free(list);
		return (-1);
	}
	for (size_t i = 0; i < n; i++) {
		q->bytea[i] = PQftype(r, (int) i) == OID_BYTEA;
	}
	PQclear(r);
	sql = sqlf("COPY \"%s\" (%s) FROM STDIN", table, list);
	free(list);
	if (sql == NULL) {
		return (mig_fail(s, "out of memory"));
	}
	r = PQexec(q->conn, sql);
	if (PQresultStatus(r) != PGRES_COPY_IN) {
		rv = fail_pg(q, table);
	}
	PQclear(r);
	free(sql);
	return (rv);
}

/* put appends n bytes to the line being made. */
static bool
put(struct side_pg *q, const char *p, size_t n)
{
	if (q->len + n + 1 > q->cap) {
		size_t cap = (q->len + n + 1) * 2;
		char *line = realloc(q->line, cap);
		if (line == NULL) {
			return (false);
		}
		q->line = line;
		q->cap = cap;
	}
	memcpy(q->line + q->len, p, n);
	q->len += n;
	return (true);
}

/* put_value appends v in COPY's text format: bytea as \\x and hex, text
 * with its backslashes, tabs and line ends escaped. */
static bool
put_value(struct side_pg *q, const struct mv *v, bool bytea)
{
	static const char hex[] = "0123456789abcdef";
	char num[40];
	bool ok = true;

	switch (v->type) {
	case MV_NULL:
		return (put(q, "\\N", 2));
	case MV_INT:
		return (put(q, num,
		    (size_t) snprintf(
		        num, sizeof(num), "%lld", (long long) v->i)));
	case MV_REAL:
		if (isnan(v->r) || isinf(v->r)) {
			return (put(q, num,
			    (size_t) snprintf(num, sizeof(num), "%s",
			        isnan(v->r)    ? "NaN"
			            : v->r > 0 ? "Infinity"
			                       : "-Infinity")));
		}
		return (put(q, num,
		    (size_t) snprintf(num, sizeof(num), "%.17g", v->r)));
	case MV_BYTES:
		break;
	}
	if (bytea) {
		ok = put(q, "\\\\x", 3);
		for (size_t i = 0; ok && i < v->len; i++) {
			char h[2] = { hex[v->p[i] >> 4], hex[v->p[i] & 15] };
			ok = put(q, h, 2);
		}
		return (ok);
	}
	for (size_t i = 0; ok && i < v->len; i++) {
		char c = (char) v->p[i];
		ok = c == '\\'  ? put(q, "\\\\", 2)
		    : c == '\n' ? put(q, "\\n", 2)
		    : c == '\r' ? put(q, "\\r", 2)
		    : c == '\t' ? put(q, "\\t", 2)
		                : put(q, &c, 1);
	}
	return (ok);
}

static int
pg_side_load_row(struct mig_side *s, const struct mv *v, size_t n)
{
	struct side_pg *q = P(s);

	q->len = 0;
	for (size_t i = 0; i < n; i++) {
		if ((i > 0 && !put(q, "\t", 1))
		    || !put_value(q, &v[i], i < q->ncols && q->bytea[i])) {
			return (mig_fail(s, "out of memory"));
		}
	}
	if (!put(q, "\n", 1)) {
		return (mig_fail(s, "out of memory"));
	}
	return (PQputCopyData(q->conn, q->line, (int) q->len) == 1
	        ? 0
	        : fail_pg(q, "writing a row"));
}

static int
pg_side_load_end(struct mig_side *s)
{
	struct side_pg *q = P(s);
	PGresult *r;
	int rv = 0;

	if (PQputCopyEnd(q->conn, NULL) != 1) {
		return (fail_pg(q, "ending the copy"));
	}
	while ((r = PQgetResult(q->conn)) != NULL) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK && rv == 0) {
			rv = fail_pg(q, "writing rows");
		}
		PQclear(r);
	}
	return (rv);
}

/* sequence writes the name of the sequence of table.column into name. */
static int
sequence(struct side_pg *q, const char *table, const char *column, char *name,
    size_t len)
{
	PGresult *r;

	if (query(q, "SELECT pg_get_serial_sequence($1, $2)", table, column,
	        "finding a sequence", &r)
	    != 0) {
		return (-1);
	}
	if (PQntuples(r) != 1 || PQgetisnull(r, 0, 0)) {
		PQclear(r);
		return (mig_fail(
		    &q->base, "%s.%s has no sequence", table, column));
	}
	snprintf(name, len, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return (0);
}

static int
pg_side_seq_get(
    struct mig_side *s, const char *table, const char *column, int64_t *v)
{
	struct side_pg *q = P(s);
	char name[300], sql[400];
	PGresult *r;

	if (sequence(q, table, column, name, sizeof(name)) != 0) {
		return (-1);
	}
	snprintf(sql, sizeof(sql),
	    "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM %s",
	    name);
	if (query(q, sql, NULL, NULL, "reading a sequence", &r) != 0) {
		return (-1);
	}
	*v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return (0);
}

static int
pg_side_seq_set(
    struct mig_side *s, const char *table, const char *column, int64_t v)
{
	struct side_pg *q = P(s);
	char name[300], num[32];
	PGresult *r;

	if (sequence(q, table, column, name, sizeof(name)) != 0) {
		return (-1);
	}
	snprintf(num, sizeof(num), "%lld", (long long) (v > 0 ? v : 1));
	if (query(q,
	        v > 0 ? "SELECT setval($1::regclass, $2::bigint, true)"
	              : "SELECT setval($1::regclass, $2::bigint, false)",
	        name, num, "setting a sequence", &r)
	    != 0) {
		return (-1);
	}
	PQclear(r);
	return (0);
}

static int
pg_side_peek(const char *uri, const char *schema, char ***names, size_t *n,
    char *err, size_t errlen)
{
	struct side_pg q = { .schema = (char *) schema };
	int rv = -1;

	*names = NULL;
	*n = 0;
	if ((q.conn = pg_connect(uri, "cairnd migrate")) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	if (PQstatus(q.conn) != CONNECTION_OK) {
		fail_pg(&q, "connecting");
	} else {
		rv = pg_side_tables(&q.base, names, n);
	}
	if (rv != 0) {
		snprintf(err, errlen, "%s", q.base.err);
	}
	PQfinish(q.conn);
	return (rv);
}

const struct mig_side_ops mig_pg_ops = {
	.open = pg_side_open,
	.peek = pg_side_peek,
	.close = pg_side_close,
	.tables = pg_side_tables,
	.columns = pg_side_columns,
	.scan = pg_side_scan,
	.begin = pg_side_begin,
	.commit = pg_side_commit,
	.rollback = pg_side_rollback,
	.load_start = pg_side_load_start,
	.load_row = pg_side_load_row,
	.load_end = pg_side_load_end,
	.seq_get = pg_side_seq_get,
	.seq_set = pg_side_seq_set,
};
