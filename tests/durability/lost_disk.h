/*
 * lost_disk.h - the lost-disk harness: cairnd on SQLite with Litestream
 * replicating it to an S3-compatible server, load, then the machine's
 * state destroyed (kill -9 of both, the data directory deleted), a
 * `litestream restore`, and checks of what came back (lost_disk.c,
 * lost_disk_check.c).
 *
 * What must always hold, and fails a round: the restored file passes
 * integrity_check; it is a prefix of what was committed (no acknowledged
 * change missing while a change sent after that acknowledgement is
 * there); every task is in a state the clients really saw it reach; the
 * lifecycle rules hold on the restored server (stale tokens refused,
 * repeated completions answered OK, every task leased again with the next
 * attempt and a fresh token, and completed); Litestream, started again on
 * the restored file, replicates what follows; and it takes no snapshot
 * under load beyond its first. What is counted, never asserted: the
 * acknowledged enqueues and completions missing, and the window (how long
 * before the loss the oldest of them was acknowledged).
 */
#ifndef CAIRN_LOST_DISK_H
#define CAIRN_LOST_DISK_H

#include <stdio.h>

#include "crash.h"

/* One round's figures and verdicts. */
struct ld_round {
	int64_t fault;   /* wall-clock time of the loss */
	int64_t load_ms; /* how long the load ran before it */
	uint64_t acked_enqueues, acked_completions;
	uint64_t lost_enqueues, lost_completions;
	int64_t window_ms;     /* fault - oldest lost ack; 0: none lost */
	uint64_t unacked_kept; /* tasks whose enqueue got no answer */
	uint64_t rows;
	int64_t restore_ms;
	int snapshots_load;    /* Litestream's snapshots under the load */
	int snapshots_restart; /* ... after its restart (--restart-litestream)
	                        */
	int snapshots_after;   /* ... when replicating the restored file */
	/* Each of these fails the round. */
	uint64_t integrity, holes, never_had, dups;
	uint64_t stale_accepted, repeat_refused, bad_release, not_drained;
	uint64_t replica_mismatch;
	uint64_t errors; /* a step that could not run (restore, start) */
};

/* A task as the restored store has it. */
struct ld_row {
	uint64_t id;
	int state;
	int attempt;
	char payload[32];
	char result[48];
	char token[40];
};

/* ld_rows reads every task of the SQLite file db in id order (malloc'd;
 * NULL when it cannot), and the duplicates of keys and payloads into
 * *dups. */
struct ld_row *ld_rows(const char *db, size_t *n, uint64_t *dups);

/* ld_row_find looks id up in rows (sorted). */
const struct ld_row *ld_row_find(
    const struct ld_row *rows, size_t n, uint64_t id);

/* ld_check_restored compares the restored rows with the history: what
 * is lost, the window, and the invariants of the file itself. */
void ld_check_restored(struct history *h, const struct ld_row *rows, size_t n,
    struct ld_round *r);

/* ld_check_lifecycle drives the server restored from rows at url: stale
 * and repeated completions, then every live task leased and completed. */
void ld_check_lifecycle(struct history *h, const struct ld_row *rows, size_t n,
    const char *url, struct ld_round *r);

/* ld_check_final checks the drained store (final, nf) against the
 * restored one: finished tasks unchanged, every task finished. */
void ld_check_final(const struct ld_row *rows, size_t n,
    const struct ld_row *final, size_t nf, struct ld_round *r);

/* ld_print_round writes round i as one tab-separated line. */
void ld_print_round(FILE *f, int i, const struct ld_round *r, bool ok);

/* ld_distributions prints min, median, p90 and max of the losses (and
 * with restarts, of the snapshots a restart of Litestream cost). */
void ld_distributions(const struct ld_round *rs, int n, bool restarts);

#endif /* CAIRN_LOST_DISK_H */
