/*
 * migrate/migrate.h - `cairnd migrate`: copies a whole store from one
 * backend into an empty one (SQLite to PostgreSQL and back), keeping ids,
 * states, leases, timers and sequences, and checks the copy
 * (docs/POSTGRES.md, "Moving from SQLite").
 */
#ifndef CAIRN_MIGRATE_H
#define CAIRN_MIGRATE_H

/* migrate_main runs `cairnd migrate ARGS` (argv[0] is "migrate"); it
 * prints its report on stdout, errors on stderr, and returns the exit
 * status: 0 copied and checked, 1 refused or failed (the target is left
 * as it was), 2 bad usage. */
int migrate_main(int argc, char **argv);

#endif /* CAIRN_MIGRATE_H */
