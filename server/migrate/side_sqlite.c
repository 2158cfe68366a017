/*
 * migrate/side_sqlite.c - the SQLite side of `cairnd migrate`.
 *
 * Locking: the file is opened with locking_mode EXCLUSIVE and no timeout.
 * A connection to a WAL database keeps a shared lock on the file for as
 * long as it is open, so the first read of an exclusive connection fails
 * at once while any other process has the file open: a cairnd (read-only
 * ones too), Litestream, a sqlite3 shell. That is how a source that is
 * being written is refused, with no help from cairnd. Once the lock is
 * taken it is held until close, so that no cairnd can start on either file
 * during the copy (its open waits, then fails). A source is only read,
 * and never checkpointed (not even at close): its file stays as it was.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "migrate/internal.h"

struct side_sqlite {
	struct mig_side base;
	sqlite3 *db;
	char *path;
	sqlite3_stmt *load; /* the INSERT of load_start */
};

#define S(s) ((struct side_sqlite *) (s))

static int
fail_db(struct side_sqlite *q, const char *what)
{
	return (mig_fail(
	    &q->base, "%s: %s: %s", q->path, what, sqlite3_errmsg(q->db)));
}

static int
exec(struct side_sqlite *q, const char *sql, const char *what)
{
	return (sqlite3_exec(q->db, sql, NULL, NULL, NULL) == SQLITE_OK
	        ? 0
	        : fail_db(q, what));
}

static void
sq_close(struct mig_side *s)
{
	struct side_sqlite *q = S(s);

	if (q == NULL) {
		return;
	}
	sqlite3_finalize(q->load);
	sqlite3_close(q->db);
	free(q->path);
	free(q);
}

/* take_lock takes the exclusive lock with the first read (see the top of
 * the file). */
static int
take_lock(struct side_sqlite *q, bool target)
{
	int rc;

	if (exec(q, "PRAGMA locking_mode = EXCLUSIVE", "locking") != 0) {
		return (-1);
	}
	rc = sqlite3_exec(q->db,
	    target ? "BEGIN IMMEDIATE"
	           : "BEGIN; SELECT count(*) FROM "
	             "sqlite_master",
	    NULL, NULL, NULL);
	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
		return (mig_fail(&q->base,
		    "%s is open in another process (a cairnd, a read-only "
		    "one included, Litestream or a sqlite3 shell): stop it "
		    "first, so that nothing writes the file during the copy",
		    q->path));
	}
	if (rc != SQLITE_OK) {
		return (fail_db(q, "locking"));
	}
	/* A source keeps its read transaction: one snapshot throughout. A
	 * target ends its first one; the lock stays (EXCLUSIVE mode). */
	return (target ? exec(q, "COMMIT", "locking") : 0);
}

static int
sq_open(struct mig_side **out, const char *uri, const char *schema,
    bool target, char *err, size_t errlen)
{
	struct side_sqlite *q = calloc(1, sizeof(*q));
	int rc;

	(void) schema;
	if (q == NULL || (q->path = strdup(uri + strlen("sqlite:"))) == NULL) {
		free(q);
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	q->base.ops = &mig_sqlite_ops;
	rc = sqlite3_open_v2(q->path, &q->db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		fail_db(q, "opening");
		goto fail;
	}
	sqlite3_extended_result_codes(q->db, 1);
	if (!target) {
		/* Not a byte of the source changes. A target is checkpointed
		 * when it closes: the file alone holds the copy. */
		sqlite3_db_config(
		    q->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	}
	if (take_lock(q, target) != 0) {
		goto fail;
	}
	*out = &q->base;
	return (0);
fail:
	snprintf(err, errlen, "%s", q->base.err);
	sq_close(&q->base);
	return (-1);
}

/* strings collects column 0 of every row of sql (one text parameter,
 * NULL: none) into a new array. */
static int
strings(struct side_sqlite *q, const char *sql, const char *param, char ***out,
    size_t *n)
{
	sqlite3_stmt *st;
	char **v = NULL;
	size_t k = 0;
	int rc;

	if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) != SQLITE_OK) {
		return (fail_db(q, "listing"));
	}
	if (param != NULL) {
		sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char **nv = realloc(v, (k + 1) * sizeof(*v));
		if (nv == NULL) {
			break;
		}
		v = nv;
		if ((v[k] = strdup((const char *) sqlite3_column_text(st, 0)))
		    == NULL) {
			break;
		}
		k++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		mig_strv_free(v, k);
		return (rc == SQLITE_ROW ? mig_fail(&q->base, "out of memory")
		                         : fail_db(q, "listing"));
	}
	*out = v;
	*n = k;
	return (0);
}

static int
sq_tables(struct mig_side *s, char ***names, size_t *n)
{
	return (strings(S(s),
	    "SELECT name FROM sqlite_master WHERE type = 'table' AND name "
	    "NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
	    NULL, names, n));
}

static int
sq_columns(struct mig_side *s, const char *table, char ***cols, size_t *n)
{
	return (strings(S(s),
	    "SELECT name FROM pragma_table_info(?1) ORDER BY cid", table, cols,
	    n));
}

/* column_list writes "a, b, c" (each quoted) into a new string. */
static char *
column_list(const char *const *cols, size_t n, bool params)
{
	size_t len = 1;
	char *out, *p;

	for (size_t i = 0; i < n; i++) {
		len += strlen(cols[i]) + 8;
	}
	if ((out = p = malloc(len)) == NULL) {
		return (NULL);
	}
	*p = 0;
	for (size_t i = 0; i < n; i++) {
		p += params
		    ? sprintf(p, "%s?", i > 0 ? ", " : "")
		    : sprintf(p, "%s\"%s\"", i > 0 ? ", " : "", cols[i]);
	}
	return (out);
}

static int
sq_scan(struct mig_side *s, const char *table, const char *const *cols,
    size_t n, mig_row_fn fn, void *arg)
{
	struct side_sqlite *q = S(s);
	char *list = column_list(cols, n, false), *sql = NULL;
	struct mv *v = calloc(n > 0 ? n : 1, sizeof(*v));
	sqlite3_stmt *st = NULL;
	int rc, rv = 0;

	if (list == NULL || v == NULL
	    || (sql = malloc(strlen(list) + strlen(table) + 32)) == NULL) {
		rv = mig_fail(s, "out of memory");
		goto out;
	}
	sprintf(sql, "SELECT %s FROM \"%s\"", list, table);
	if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) != SQLITE_OK) {
		rv = fail_db(q, table);
		goto out;
	}
	while (rv == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (size_t i = 0; i < n; i++) {
			int c = (int) i;
			memset(&v[i], 0, sizeof(v[i]));
			switch (sqlite3_column_type(st, c)) {
			case SQLITE_INTEGER:
				v[i].type = MV_INT;
				v[i].i = sqlite3_column_int64(st, c);
				break;
			case SQLITE_FLOAT:
				v[i].type = MV_REAL;
				v[i].r = sqlite3_column_double(st, c);
				break;
			case SQLITE_TEXT:
				v[i].type = MV_BYTES;
				v[i].text = true;
				v[i].p = sqlite3_column_text(st, c);
				v[i].len
				    = (size_t) sqlite3_column_bytes(st, c);
				break;
			case SQLITE_BLOB:
				v[i].type = MV_BYTES;
				v[i].p = sqlite3_column_blob(st, c);
				v[i].len
				    = (size_t) sqlite3_column_bytes(st, c);
				break;
			default:
				v[i].type = MV_NULL;
			}
		}
		rv = fn(arg, v, n);
	}
	if (rv == 0 && rc != SQLITE_DONE) {
		rv = fail_db(q, table);
	}
out:
	sqlite3_finalize(st);
	free(sql);
	free(list);
	free(v);
	return (rv);
}

static int
sq_begin(struct mig_side *s)
{
	return (exec(S(s), "BEGIN IMMEDIATE", "begin"));
}

static int
sq_commit(struct mig_side *s)
{
	return (exec(S(s), "COMMIT", "commit"));
}

static void
sq_rollback(struct mig_side *s)
{
	if (!sqlite3_get_autocommit(S(s)->db)) {
		sqlite3_exec(S(s)->db, "ROLLBACK", NULL, NULL, NULL);
	}
}

static int
sq_load_start(
    struct mig_side *s, const char *table, const char *const *cols, size_t n)
{
	struct side_sqlite *q = S(s);
	char *names = column_list(cols, n, false);
	char *params = column_list(cols, n, true), *sql = NULL;
	int rv = 0;

	if (names == NULL || params == NULL
	    || (sql = malloc(
	            strlen(names) + strlen(params) + strlen(table) + 40))
	        == NULL) {
		rv = mig_fail(s, "out of memory");
	} else {
		sprintf(sql, "INSERT INTO \"%s\" (%s) VALUES (%s)", table,
		    names, params);
		if (sqlite3_prepare_v2(q->db, sql, -1, &q->load, NULL)
		    != SQLITE_OK) {
			rv = fail_db(q, table);
		}
	}
	free(sql);
	free(names);
	free(params);
	return (rv);
}

static int
sq_load_row(struct mig_side *s, const struct mv *v, size_t n)
{
	struct side_sqlite *q = S(s);
	sqlite3_stmt *st = q->load;
	int rc;

	sqlite3_reset(st);
	for (size_t i = 0; i < n; i++) {
		int c = (int) i + 1;
		switch (v[i].type) {
		case MV_INT:
			sqlite3_bind_int64(st, c, v[i].i);
			break;
		case MV_REAL:
			sqlite3_bind_double(st, c, v[i].r);
			break;
		case MV_BYTES:
			if (v[i].text) {
				sqlite3_bind_text64(st, c,
				    (const char *) v[i].p, v[i].len,
				    SQLITE_STATIC, SQLITE_UTF8);
			} else {
				sqlite3_bind_blob64(st, c,
				    v[i].len > 0 ? v[i].p : (const void *) "",
				    v[i].len, SQLITE_STATIC);
			}
			break;
		default:
			sqlite3_bind_null(st, c);
		}
	}
	rc = sqlite3_step(st);
	sqlite3_clear_bindings(st);
	return (rc == SQLITE_DONE ? 0 : fail_db(q, "writing a row"));
}

static int
sq_load_end(struct mig_side *s)
{
	sqlite3_finalize(S(s)->load);
	S(s)->load = NULL;
	return (0);
}

static int
sq_seq_get(
    struct mig_side *s, const char *table, const char *column, int64_t *v)
{
	struct side_sqlite *q = S(s);
	sqlite3_stmt *st;
	int rc;

	(void) column; /* AUTOINCREMENT: one sequence per table */
	if (sqlite3_prepare_v2(q->db,
	        "SELECT seq FROM sqlite_sequence WHERE name = ?1", -1, &st,
	        NULL)
	    != SQLITE_OK) {
		return (fail_db(q, "reading a sequence"));
	}
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return (rc == SQLITE_ROW || rc == SQLITE_DONE
	        ? 0
	        : fail_db(q, "reading a sequence"));
}

static int
sq_seq_set(
    struct mig_side *s, const char *table, const char *column, int64_t v)
{
	struct side_sqlite *q = S(s);
	sqlite3_stmt *st;
	int rc;

	(void) column;
	/* The inserts made the row (their highest id); v may be higher,
	 * when the newest tasks were deleted. */
	static const char *const sql[] = {
		"DELETE FROM sqlite_sequence WHERE name = ?1",
		"INSERT INTO sqlite_sequence (name, seq) VALUES (?1, ?2)",
	};
	for (size_t i = 0; i < 2; i++) {
		if (i == 1 && v == 0) {
			break; /* no id handed out yet: no row */
		}
		if (sqlite3_prepare_v2(q->db, sql[i], -1, &st, NULL)
		    != SQLITE_OK) {
			return (fail_db(q, "setting a sequence"));
		}
		sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
		if (i == 1) {
			sqlite3_bind_int64(st, 2, v);
		}
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE) {
			return (fail_db(q, "setting a sequence"));
		}
	}
	return (0);
}

static int
sq_peek(const char *uri, const char *schema, char ***names, size_t *n,
    char *err, size_t errlen)
{
	struct side_sqlite q = { .path = (char *) uri + strlen("sqlite:") };
	int rv;

	(void) schema;
	*names = NULL;
	*n = 0;
	if (access(q.path, F_OK) != 0) {
		return (0); /* a new file */
	}
	if (sqlite3_open_v2(q.path, &q.db,
	        SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL)
	    != SQLITE_OK) {
		rv = fail_db(&q, "opening");
	} else {
		rv = sq_tables(&q.base, names, n);
	}
	if (rv != 0) {
		snprintf(err, errlen, "%s", q.base.err);
	}
	sqlite3_close(q.db);
	return (rv);
}

const struct mig_side_ops mig_sqlite_ops = {
	.open = sq_open,
	.peek = sq_peek,
	.close = sq_close,
	.tables = sq_tables,
	.columns = sq_columns,
	.scan = sq_scan,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.load_start = sq_load_start,
	.load_row = sq_load_row,
	.load_end = sq_load_end,
	.seq_get = sq_seq_get,
	.seq_set = sq_seq_set,
};
