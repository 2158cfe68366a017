/*
 * migrate/copy.c - the copy of `cairnd migrate`: checks, then every table
 * and sequence in one transaction of the target, then the check of what
 * was written against what was read.
 *
 * Order of the checks, so that a refusal changes nothing that matters:
 * the schemes, the source's schema version (opened read-only through the
 * store, which refuses another version), the source locked against any
 * cairnd (refused when one has it open), the target's tables (none but
 * Cairn's: not someone else's database), then the target's schema is
 * created or brought up to date (an empty store: what cairnd would do at
 * its first start), and locked, then the source's tables must all be
 * known and the target's all empty.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migrate/copy.h"
#include "migrate/internal.h"
#include "store/store.h"

int
mig_fail(struct mig_side *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	return (-1);
}

void
mig_strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i]);
	}
	free(v);
}

/* FNV-1a over the bytes of one value, tagged with its type and length so
 * that no two rows of different values run into the same bytes. */
static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		h = (h ^ b[i]) * 0x100000001b3ULL;
	}
	return (h);
}

static uint64_t
hash_row(uint64_t h, const struct mv *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t tag = (uint8_t) v[i].type;
		uint64_t len = v[i].len;
		h = fnv(h, &tag, 1);
		switch (v[i].type) {
		case MV_INT:
			h = fnv(h, &v[i].i, sizeof(v[i].i));
			break;
		case MV_REAL:
			h = fnv(h, &v[i].r, sizeof(v[i].r));
			break;
		case MV_BYTES:
			h = fnv(h, &len, sizeof(len));
			h = fnv(h, v[i].p, v[i].len);
			break;
		case MV_NULL:
			break;
		}
	}
	return (h);
}

void
mig_digest_row(struct mig_digest *d, const struct mv *v, size_t n)
{
	d->rows++;
	d->h1 += hash_row(0xcbf29ce484222325ULL, v, n);
	d->h2 += hash_row(0x84222325cbf29ce4ULL, v, n) * 0x9e3779b97f4a7c15ULL;
}

/* The backend of a URI, by its scheme. */
static const struct mig_side_ops *
side_of(const char *uri)
{
	if (strncmp(uri, "sqlite:", 7) == 0) {
		return (&mig_sqlite_ops);
	}
#ifdef CAIRN_WITH_POSTGRES
	if (strncmp(uri, "postgres://", 11) == 0
	    || strncmp(uri, "postgresql://", 13) == 0) {
		return (&mig_pg_ops);
	}
#endif
	return (NULL);
}

struct copy {
	const struct mig_args *a;
	struct mig_side *src, *dst;
	struct mig_result *res;
	char *err;
	size_t errlen;
};

static int fail(struct copy *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int
fail(struct copy *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	return (-1);
}

static int
side_fail(struct copy *c, struct mig_side *s, const char *which)
{
	return (fail(c, "%s: %s", which, s->err));
}

/* check_version opens uri through the store: read-only for the source
 * (another schema version is refused, nothing is written), read-write
 * for the target (its schema is created or brought up to date). */
static int
check_store(struct copy *c, const char *uri, const char *schema, bool target)
{
	struct store_options so = { .schema = schema, .read_only = !target };
	struct store *s;
	char msg[400];

	if (store_open(uri, &so, &s, msg, sizeof(msg)) != CAIRN_OK) {
		return (fail(
		    c, "%s %s: %s", target ? "target" : "source", uri, msg));
	}
	store_close(s);
	return (0);
}

static const struct mig_table *
known(const char *name)
{
	for (size_t i = 0; i < mig_ntables; i++) {
		if (strcmp(mig_tables[i].name, name) == 0) {
			return (&mig_tables[i]);
		}
	}
	return (NULL);
}

/* check_tables: every table of the source is one to copy, and every one
 * to copy exists in both. */
static int
check_tables(struct copy *c)
{
	char **names = NULL;
	size_t n = 0;

	if (c->src->ops->tables(c->src, &names, &n) != 0) {
		return (side_fail(c, c->src, "source"));
	}
	for (size_t i = 0; i < n; i++) {
		if (known(names[i]) == NULL) {
			fail(c,
			    "source: table %s is not one that cairnd migrate "
			    "copies (a newer cairnd made it?); nothing was "
			    "written",
			    names[i]);
			mig_strv_free(names, n);
			return (-1);
		}
	}
	mig_strv_free(names, n);
	return (0);
}

/* check_foreign refuses a target that holds tables that are not Cairn's
 * (someone's database or schema), before Cairn's schema is made in it. */
static int
check_foreign(struct copy *c, const struct mig_side_ops *to)
{
	char **names = NULL, msg[MIG_ERR_MAX];
	size_t n = 0;
	int rv = 0;

	if (to->peek(c->a->to, c->a->to_schema, &names, &n, msg, sizeof(msg))
	    != 0) {
		return (fail(c, "target: %s", msg));
	}
	for (size_t i = 0; i < n && rv == 0; i++) {
		if (known(names[i]) == NULL) {
			rv = fail(c,
			    "target %s holds data (table %s is not one of "
			    "Cairn's): cairnd migrate writes only into an "
			    "empty store; nothing was written",
			    c->a->to, names[i]);
		}
	}
	mig_strv_free(names, n);
	return (rv);
}

static int
stop_at_first(void *arg, const struct mv *v, size_t n)
{
	(void) v;
	(void) n;
	*(bool *) arg = true;
	return (1);
}

/* columns reads the columns of table on both sides, which must be the
 * same (both schemas at the same version); *cols is the source's order. */
static int
columns(struct copy *c, const char *table, char ***cols, size_t *n)
{
	char **dcols = NULL;
	size_t dn = 0;
	int rv = 0;

	if (c->src->ops->columns(c->src, table, cols, n) != 0) {
		return (side_fail(c, c->src, "source"));
	}
	if (c->dst->ops->columns(c->dst, table, &dcols, &dn) != 0) {
		mig_strv_free(*cols, *n);
		return (side_fail(c, c->dst, "target"));
	}
	if (*n == 0 || dn != *n) {
		rv = fail(c,
		    "table %s: %zu columns in the source, %zu in the "
		    "target",
		    table, *n, dn);
	}
	for (size_t i = 0; rv == 0 && i < *n; i++) {
		bool found = false;
		for (size_t j = 0; j < dn && !found; j++) {
			found = strcmp((*cols)[i], dcols[j]) == 0;
		}
		if (!found) {
			rv = fail(c, "table %s: the target has no column %s",
			    table, (*cols)[i]);
		}
	}
	mig_strv_free(dcols, dn);
	if (rv != 0) {
		mig_strv_free(*cols, *n);
	}
	return (rv);
}

/* check_empty refuses a target that holds a row in any table. */
static int
check_empty(struct copy *c, const char *table, char **cols, size_t n)
{
	bool any = false;

	if (c->dst->ops->scan(c->dst, table, (const char *const *) cols, n,
	        stop_at_first, &any)
	    < 0) {
		return (side_fail(c, c->dst, "target"));
	}
	if (any) {
		return (fail(c,
		    "target %s holds data (table %s is not empty): cairnd "
		    "migrate writes only into an empty store; nothing was "
		    "written",
		    c->a->to, table));
	}
	return (0);
}

struct load {
	struct mig_side *dst;
	struct mig_digest *d;
};

static int
load_one(void *arg, const struct mv *v, size_t n)
{
	struct load *l = arg;

	mig_digest_row(l->d, v, n);
	return (l->dst->ops->load_row(l->dst, v, n) != 0 ? 1 : 0);
}

static int
digest_one(void *arg, const struct mv *v, size_t n)
{
	mig_digest_row(arg, v, n);
	return (0);
}

/* copy_table copies one table and its sequence inside the target's
 * transaction, and digests what it read. */
static int
copy_table(struct copy *c, size_t t, char **cols, size_t n)
{
	const struct mig_table *mt = &mig_tables[t];
	struct mig_table_result *r = &c->res->tables[t];
	struct load l = { c->dst, &r->source };
	const char *const *cc = (const char *const *) cols;

	if (c->dst->ops->load_start(c->dst, mt->name, cc, n) != 0) {
		return (side_fail(c, c->dst, "target"));
	}
	int rv = c->src->ops->scan(c->src, mt->name, cc, n, load_one, &l);
	if (rv != 0) {
		c->dst->ops->load_end(c->dst);
		return (rv > 0 ? side_fail(c, c->dst, "target")
		               : side_fail(c, c->src, "source"));
	}
	if (c->dst->ops->load_end(c->dst) != 0) {
		return (side_fail(c, c->dst, "target"));
	}
	if (mt->serial == NULL) {
		return (0);
	}
	if (c->src->ops->seq_get(c->src, mt->name, mt->serial, &r->seq) != 0) {
		return (side_fail(c, c->src, "source"));
	}
	if (c->dst->ops->seq_set(c->dst, mt->name, mt->serial, r->seq) != 0) {
		return (side_fail(c, c->dst, "target"));
	}
	return (0);
}

/* verify reads the target back, after its commit, and compares. */
static int
verify(struct copy *c, size_t t, char **cols, size_t n)
{
	const struct mig_table *mt = &mig_tables[t];
	struct mig_table_result *r = &c->res->tables[t];
	int64_t seq = 0;

	if (c->dst->ops->scan(c->dst, mt->name, (const char *const *) cols, n,
	        digest_one, &r->target)
	        != 0
	    || (mt->serial != NULL
	        && c->dst->ops->seq_get(c->dst, mt->name, mt->serial, &seq)
	            != 0)) {
		return (side_fail(c, c->dst, "target"));
	}
	if (r->target.rows != r->source.rows || r->target.h1 != r->source.h1
	    || r->target.h2 != r->source.h2) {
		return (fail(c,
		    "table %s: the copy differs from the source (%llu rows "
		    "read, %llu in the target, or their digests differ)",
		    mt->name, (unsigned long long) r->source.rows,
		    (unsigned long long) r->target.rows));
	}
	if (mt->serial != NULL && seq != r->seq) {
		return (fail(c,
		    "table %s: the target's sequence is at %lld, the "
		    "source's at %lld",
		    mt->name, (long long) seq, (long long) r->seq));
	}
	return (0);
}

/* each runs fn on every table with its columns. */
static int
each(struct copy *c, int (*fn)(struct copy *, size_t, char **, size_t))
{
	for (size_t t = 0; t < mig_ntables; t++) {
		char **cols;
		size_t n;
		if (columns(c, mig_tables[t].name, &cols, &n) != 0) {
			return (-1);
		}
		int rv = fn(c, t, cols, n);
		mig_strv_free(cols, n);
		if (rv != 0) {
			return (rv);
		}
	}
	return (0);
}

static int
empty_one(struct copy *c, size_t t, char **cols, size_t n)
{
	return (check_empty(c, mig_tables[t].name, cols, n));
}

/* open_side opens and locks the source, or the target. The source is
 * locked before the target's schema is made, so that a source in use is
 * refused before anything is written. */
static int
open_side(struct copy *c, const struct mig_side_ops *ops, bool target)
{
	char msg[MIG_ERR_MAX];

	if (ops->open(target ? &c->dst : &c->src,
	        target ? c->a->to : c->a->from,
	        target ? c->a->to_schema : c->a->from_schema, target, msg,
	        sizeof(msg))
	    != 0) {
		return (fail(c, "%s: %s", target ? "target" : "source", msg));
	}
	return (0);
}

int
migrate_copy(
    const struct mig_args *a, struct mig_result *res, char *err, size_t errlen)
{
	const struct mig_side_ops *from = side_of(a->from),
	                          *to = side_of(a->to);
	struct copy c = { a, NULL, NULL, res, err, errlen };
	int rv = -1;

	memset(res, 0, sizeof(*res));
	if (from == NULL || to == NULL) {
		return (fail(&c,
		    "unknown store scheme in '%s': sqlite:PATH or "
		    "postgres://USER@HOST:PORT/DB"
#ifndef CAIRN_WITH_POSTGRES
		    " (this cairnd was built without PostgreSQL)"
#endif
		    ,
		    from == NULL ? a->from : a->to));
	}
	if (strcmp(a->from, a->to) == 0
	    && strcmp(a->from_schema, a->to_schema) == 0) {
		return (fail(&c, "the source and the target are the same"));
	}
	if ((res->tables = calloc(mig_ntables, sizeof(*res->tables)))
	    == NULL) {
		return (fail(&c, "out of memory"));
	}
	res->ntables = mig_ntables;
	if (check_store(&c, a->from, a->from_schema, false) != 0
	    || open_side(&c, from, false) != 0 || check_foreign(&c, to) != 0
	    || check_store(&c, a->to, a->to_schema, true) != 0
	    || open_side(&c, to, true) != 0 || check_tables(&c) != 0
	    || each(&c, empty_one) != 0) {
		goto out;
	}
	if (c.dst->ops->begin(c.dst) != 0) {
		side_fail(&c, c.dst, "target");
		goto out;
	}
	if (each(&c, copy_table) != 0) {
		c.dst->ops->rollback(c.dst);
		goto out;
	}
	if (c.dst->ops->commit(c.dst) != 0) {
		side_fail(&c, c.dst, "target");
		goto out;
	}
	res->committed = true;
	rv = each(&c, verify);
out:
	if (c.dst != NULL) {
		c.dst->ops->close(c.dst);
	}
	if (c.src != NULL) {
		c.src->ops->close(c.src);
	}
	return (rv);
}

void
migrate_result_clear(struct mig_result *res)
{
	free(res->tables);
	memset(res, 0, sizeof(*res));
}
