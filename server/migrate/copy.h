/*
 * migrate/copy.h - the copy of a whole store into an empty one, as
 * `cairnd migrate` runs it (migrate/main.c) and tests may call it.
 */
#ifndef CAIRN_MIGRATE_COPY_H
#define CAIRN_MIGRATE_COPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "migrate/internal.h"

struct mig_args {
	const char *from, *to;               /* store URIs */
	const char *from_schema, *to_schema; /* PostgreSQL schemas */
};

/* What was copied of one table (in the order of mig_tables): the digest
 * of the rows read from the source, of the rows read back from the
 * target, and the sequence's position (tables with a serial column). */
struct mig_table_result {
	struct mig_digest source, target;
	int64_t seq;
};

struct mig_result {
	struct mig_table_result *tables;
	size_t ntables;
	bool committed; /* the target was written (then checked) */
};

/* migrate_copy copies the store a->from into the empty store a->to and
 * checks the copy. Returns 0; or -1 with a message in err, having
 * written nothing unless res->committed (then the check failed). The
 * caller frees res with migrate_result_clear. */
int migrate_copy(const struct mig_args *a, struct mig_result *res, char *err,
    size_t errlen);
void migrate_result_clear(struct mig_result *res);

#endif /* CAIRN_MIGRATE_COPY_H */
