/*
 * migrate/main.c - `cairnd migrate`: its arguments and its report.
 *
 * A subcommand of cairnd, not of the cairn CLI: the copy needs both
 * backends' schemas and their store code (to check the source's version
 * and to create the target's schema exactly as cairnd does), which live
 * in the server; the CLI only speaks the wire protocol to a running
 * cairnd, and a migration must run with no cairnd on either store.
 */
#include <stdio.h>
#include <string.h>

#include "migrate/copy.h"
#include "migrate/migrate.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "Usage: cairnd migrate --from URI --to URI [--from-schema NAME]\n"
	    "                      [--to-schema NAME]\n"
	    "\n"
	    "Copies every task, event, request record, workflow run, log\n"
	    "entry, signal, queue setting and schedule of the store at\n"
	    "--from into"
	    " the empty store at --to (sqlite:PATH or\n"
	    "postgres://USER@HOST:PORT/DB, either way round), keeping ids,\n"
	    "states, leases and timers, and checks the copy: rows and a\n"
	    "digest per table, read back from the target.\n"
	    "Stop every cairnd on both stores first: a store that a\n"
	    "cairnd has open is refused, and so is a target that holds data.\n"
	    "The target's schema is created if missing.\n"
	    "\n"
	    "  --from URI          the store to copy (only read)\n"
	    "  --to URI            the store to fill\n"
	    "  --from-schema NAME  PostgreSQL schema of --from (default "
	    "cairn)\n"
	    "  --to-schema NAME    PostgreSQL schema of --to (default cairn)\n"
	    "\n"
	    "Exit status: 0 copied and checked, 1 refused or failed, 2 bad\n"
	    "usage. See docs/POSTGRES.md, \"Moving from SQLite\".\n");
}

static void
report(const struct mig_result *res)
{
	printf(
	    "%-12s %10s  %-32s  %s\n", "TABLE", "ROWS", "DIGEST", "LAST ID");
	for (size_t t = 0; t < res->ntables; t++) {
		const struct mig_table_result *r = &res->tables[t];
		char seq[32] = "-";
		if (mig_tables[t].serial != NULL) {
			snprintf(seq, sizeof(seq), "%lld", (long long) r->seq);
		}
		printf("%-12s %10llu  %016llx%016llx  %s\n",
		    mig_tables[t].name, (unsigned long long) r->target.rows,
		    (unsigned long long) r->target.h1,
		    (unsigned long long) r->target.h2, seq);
	}
}

int
migrate_main(int argc, char **argv)
{
	struct mig_args a = { .from_schema = "cairn", .to_schema = "cairn" };
	struct mig_result res;
	char err[1024];

	for (int i = 1; i < argc; i++) {
		const char **dst = strcmp(argv[i], "--from") == 0 ? &a.from
		    : strcmp(argv[i], "--to") == 0                ? &a.to
		    : strcmp(argv[i], "--from-schema") == 0 ? &a.from_schema
		    : strcmp(argv[i], "--to-schema") == 0   ? &a.to_schema
		                                            : NULL;
		if (strcmp(argv[i], "--help") == 0
		    || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return (0);
		}
		if (dst == NULL || i + 1 >= argc) {
			fprintf(stderr,
			    "cairnd migrate: %s '%s' (see --help)\n",
			    dst == NULL ? "unknown argument" : "no value for",
			    argv[i]);
			return (2);
		}
		*dst = argv[++i];
	}
	if (a.from == NULL || a.to == NULL) {
		fprintf(stderr,
		    "cairnd migrate: --from and --to are required (see "
		    "--help)\n");
		return (2);
	}
	if (migrate_copy(&a, &res, err, sizeof(err)) != 0) {
		fprintf(stderr, "cairnd migrate: %s%s\n", err,
		    res.committed ? " (the target was written: empty it "
		                    "before trying again)"
		                  : "");
		migrate_result_clear(&res);
		return (1);
	}
	printf("copied %s into %s, and checked:\n", a.from, a.to);
	report(&res);
	migrate_result_clear(&res);
	return (0);
}
