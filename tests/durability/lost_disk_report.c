/*
 * lost_disk_report.c - the lost-disk harness's output: a line per round
 * and the distributions of what was lost (lost_disk.h).
 */
#include <stdio.h>
#include <stdlib.h>

#include "lost_disk.h"

void
ld_print_round(FILE *f, int i, const struct ld_round *r, bool ok)
{
	fprintf(f,
	    "%d\t%s\t%llu\t%llu\t%llu\t%llu\t%lld\t%llu\t%lld\t%d\t%d\t%d\t"
	    "holes=%llu never_had=%llu dups=%llu stale=%llu repeat=%llu "
	    "release=%llu undrained=%llu replica=%llu integrity=%llu "
	    "errors=%llu\n",
	    i, ok ? "ok" : "FAILED", (unsigned long long) r->acked_enqueues,
	    (unsigned long long) r->acked_completions,
	    (unsigned long long) r->lost_enqueues,
	    (unsigned long long) r->lost_completions, (long long) r->window_ms,
	    (unsigned long long) r->unacked_kept, (long long) r->restore_ms,
	    r->snapshots_load, r->snapshots_restart, r->snapshots_after,
	    (unsigned long long) r->holes, (unsigned long long) r->never_had,
	    (unsigned long long) r->dups,
	    (unsigned long long) r->stale_accepted,
	    (unsigned long long) r->repeat_refused,
	    (unsigned long long) r->bad_release,
	    (unsigned long long) r->not_drained,
	    (unsigned long long) r->replica_mismatch,
	    (unsigned long long) r->integrity, (unsigned long long) r->errors);
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;

	return (x < y ? -1 : x > y);
}

/* distribution prints min, median, p90 and max (nearest rank). */
static void
distribution(const char *what, int64_t *v, int n)
{
	qsort(v, (size_t) n, sizeof(*v), cmp_i64);
	printf("  %-22s min %lld  median %lld  p90 %lld  max %lld\n", what,
	    (long long) v[0], (long long) v[(n + 1) / 2 - 1],
	    (long long) v[(9 * n + 9) / 10 - 1], (long long) v[n - 1]);
}

void
ld_distributions(const struct ld_round *rs, int n, bool restarts)
{
	int64_t *v = calloc((size_t) n, sizeof(*v));

	for (int i = 0; i < n; i++) {
		v[i] = (int64_t) rs[i].lost_enqueues;
	}
	distribution("lost enqueues", v, n);
	for (int i = 0; i < n; i++) {
		v[i] = (int64_t) rs[i].lost_completions;
	}
	distribution("lost completions", v, n);
	for (int i = 0; i < n; i++) {
		v[i] = rs[i].window_ms;
	}
	distribution("window (ms)", v, n);
	for (int i = 0; restarts && i < n; i++) {
		v[i] = rs[i].snapshots_restart;
	}
	if (restarts) {
		distribution("snapshots on restart", v, n);
	}
	free(v);
}
