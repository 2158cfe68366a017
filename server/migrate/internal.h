/*
 * migrate/internal.h - what the files of `cairnd migrate` share.
 *
 * The copy works on tables, not on the store interface: a store's rows
 * (tasks with their leases, events, request records, runs, log entries,
 * inbox signals) are copied column by column, so that nothing the store
 * interface hides (a lease token, a timer, a sequence) is lost or
 * recomputed. Each backend is a "side" (a table of functions): it reads
 * rows as values of four types, writes them, and reads and sets the
 * sequences of ids. The copy itself (migrate/copy.c) is the same whatever
 * the two sides are.
 */
#ifndef CAIRN_MIGRATE_INTERNAL_H
#define CAIRN_MIGRATE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MIG_ERR_MAX 512

/* A column's value, as both backends can hold it. Text and blobs are both
 * bytes (text says which it was, for writing): a digest of the same bytes
 * is the same whichever it was. */
enum mv_type { MV_NULL, MV_INT, MV_REAL, MV_BYTES };
struct mv {
	enum mv_type type;
	bool text;
	int64_t i;
	double r;
	const uint8_t *p;
	size_t len;
};

/* A table to copy: its name, and the column whose ids a sequence hands
 * out (NULL: none), whose position is copied too so that no id is ever
 * handed out twice. */
struct mig_table {
	const char *name;
	const char *serial;
};

/* Every table of a store (migrate/tables.c). A source table that is not
 * here stops the copy, so that a table added to the schema without a line
 * here cannot be left behind. */
extern const struct mig_table mig_tables[];
extern const size_t mig_ntables;

/* mig_row_fn receives one row of n values; the values live until it
 * returns. Nonzero stops the scan (and is its result). */
typedef int (*mig_row_fn)(void *arg, const struct mv *v, size_t n);

struct mig_side;

/* The functions of one backend. Each returns 0, or -1 with a message in
 * the side's err (mig_side_err). */
struct mig_side_ops {
	/* open opens the store of uri (schema: PostgreSQL's schema name)
	 * and locks it so that no cairnd writes it while the copy runs: a
	 * source for a consistent read, a target to be written. */
	int (*open)(struct mig_side **out, const char *uri, const char *schema,
	    bool target, char *err, size_t errlen);
	void (*close)(struct mig_side *s);
	/* peek lists the tables of the store of uri, as tables does, with
	 * no lock and without creating anything (none when the file or
	 * schema does not exist yet): a target's tables before its schema
	 * is made. */
	int (*peek)(const char *uri, const char *schema, char ***names,
	    size_t *n, char *err, size_t errlen);
	/* tables lists the store's tables, without the backend's own
	 * bookkeeping (SQLite's sqlite_*, the schema version). The caller
	 * frees each name and the array. */
	int (*tables)(struct mig_side *s, char ***names, size_t *n);
	/* columns lists the columns of table, in the table's order. */
	int (*columns)(
	    struct mig_side *s, const char *table, char ***cols, size_t *n);
	/* scan reads every row of table, with the n columns cols. */
	int (*scan)(struct mig_side *s, const char *table,
	    const char *const *cols, size_t n, mig_row_fn fn, void *arg);
	/* begin, commit and rollback bracket the target's writes. */
	int (*begin)(struct mig_side *s);
	int (*commit)(struct mig_side *s);
	void (*rollback)(struct mig_side *s);
	/* load_start starts writing rows of table with columns cols,
	 * load_row writes one, load_end ends them. */
	int (*load_start)(struct mig_side *s, const char *table,
	    const char *const *cols, size_t n);
	int (*load_row)(struct mig_side *s, const struct mv *v, size_t n);
	int (*load_end)(struct mig_side *s);
	/* seq_get reads the last id the sequence of table.column handed
	 * out (0: none yet); seq_set makes the next one v + 1. */
	int (*seq_get)(struct mig_side *s, const char *table,
	    const char *column, int64_t *v);
	int (*seq_set)(struct mig_side *s, const char *table,
	    const char *column, int64_t v);
};

/* The base of each side. */
struct mig_side {
	const struct mig_side_ops *ops;
	char err[MIG_ERR_MAX];
};

extern const struct mig_side_ops mig_sqlite_ops;
#ifdef CAIRN_WITH_POSTGRES
extern const struct mig_side_ops mig_pg_ops;
#endif

/* mig_fail formats a message into s->err and returns -1. */
int mig_fail(struct mig_side *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* mig_strv_free frees an array of n strings. */
void mig_strv_free(char **v, size_t n);

/* A table's digest: its row count and a sum over its rows of two 64-bit
 * hashes of each row's values, so that it does not depend on the order in
 * which a backend returns the rows. Computed by the same code from what
 * each side reads. */
struct mig_digest {
	uint64_t rows;
	uint64_t h1, h2;
};
void mig_digest_row(struct mig_digest *d, const struct mv *v, size_t n);

#endif /* CAIRN_MIGRATE_INTERNAL_H */
