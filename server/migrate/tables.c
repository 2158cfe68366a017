/*
 * migrate/tables.c - the tables that `cairnd migrate` copies: one line per
 * table, named as both backends' schemas name it. A new table of the
 * schema is one line here; the copy refuses a source with a table that is
 * not listed, so a forgotten line shows at once.
 */
#include "migrate/internal.h"

const struct mig_table mig_tables[] = {
	{ "tasks", "id" },      /* tasks, with their leases and timers */
	{ "events", NULL },     /* each task's history */
	{ "requests", NULL },   /* recent request ids (resent requests) */
	{ "wf_runs", "id" },    /* workflow runs, with their leases */
	{ "wf_entries", NULL }, /* their logs, timers included */
	{ "wf_inbox", "id" },   /* signals not yet taken */
	{ "queues", NULL },     /* per-queue limits and defaults */
	{ "schedules", NULL },  /* cron schedules, with their next fire */
};

const size_t mig_ntables = sizeof(mig_tables) / sizeof(mig_tables[0]);
