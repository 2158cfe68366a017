/*
 * crash_harness.c - rounds of load against a real cairnd ended by a fault
 * at a random moment, restarts, and the checks of crash.h.
 *
 *   crash_harness [--fault kill|cut] [--durability full|normal-unsafe]
 *                 [--early-ack] [--rounds N] [--round-ms MS]
 *                 [--producers N] [--workers N] [--seed N] [--expect-loss]
 *
 * kill: kill -9 of the production cairnd (CAIRND). cut: a power cut of
 * cairnd-faultfs (CAIRND_FAULTFS): what was not synced is lost, all of it
 * in even rounds and a random part in odd ones. --early-ack makes the
 * server answer before COMMIT (cairnd-faultfs). --expect-loss is for the
 * negative controls: the run passes only if acknowledged work was lost.
 * CAIRN_CRASH_ROUNDS overrides --rounds, for longer runs by hand. With
 * CAIRN_TEST_STORE a postgres:// URI, cairnd runs on PostgreSQL (kill
 * only).
 * Exit status 0 when the verdict is as expected.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crash.h"
#include "crash_fault.h"

struct opts {
	bool cut, early_ack, expect_loss;
	const char *durability;
	int rounds, round_ms, producers, workers;
	unsigned seed;
};

static int
parse(struct opts *o, int argc, char **argv)
{
	*o = (struct opts) { .durability = "full",
		.rounds = 4,
		.round_ms = 1200,
		.producers = 2,
		.workers = 3 };
	o->seed = (unsigned) wall_ms();
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
		if (strcmp(a, "--fault") == 0) {
			o->cut = strcmp(v, "cut") == 0;
			i++;
		} else if (strcmp(a, "--durability") == 0) {
			o->durability = v;
			i++;
		} else if (strcmp(a, "--early-ack") == 0) {
			o->early_ack = true;
		} else if (strcmp(a, "--expect-loss") == 0) {
			o->expect_loss = true;
		} else if (strcmp(a, "--rounds") == 0) {
			o->rounds = atoi(v), i++;
		} else if (strcmp(a, "--round-ms") == 0) {
			o->round_ms = atoi(v), i++;
		} else if (strcmp(a, "--producers") == 0) {
			o->producers = atoi(v), i++;
		} else if (strcmp(a, "--workers") == 0) {
			o->workers = atoi(v), i++;
		} else if (strcmp(a, "--seed") == 0) {
			o->seed = (unsigned) strtoul(v, NULL, 10), i++;
		} else {
			fprintf(stderr, "crash_harness: unknown %s\n", a);
			return (-1);
		}
	}
	if (getenv("CAIRN_CRASH_ROUNDS") != NULL) {
		o->rounds = atoi(getenv("CAIRN_CRASH_ROUNDS"));
	}
	if (o->producers + o->workers > 64 || o->round_ms < 100) {
		return (-1);
	}
	return (0);
}

/* drain waits until no task of the queue is pending or active. */
static void
drain(const char *url)
{
	cairn_client_options co = { .timeout_ms = 3000 };
	cairn_client *c;
	int64_t until = mono_ms() + 30000;

	if (cairn_client_open(&c, url, &co, NULL, 0) != CAIRN_OK) {
		return;
	}
	while (mono_ms() < until) {
		cairn_queue_stats *st;
		size_t n;
		uint64_t left = 1;
		if (cairn_stats(c, CRASH_QUEUE, &st, &n) == CAIRN_OK) {
			left = n > 0 ? st[0].pending + st[0].active : 0;
			cairn_stats_free(st, n);
		}
		if (left == 0) {
			break;
		}
		sleep_ms(100);
	}
	cairn_client_close(c);
}

static void
report(const struct opts *o, const struct counts *c, const struct history *h,
    uint64_t max_lost, int64_t max_window)
{
	printf("crash_harness: fault=%s durability=%s%s rounds=%d seed=%u\n"
	       "  acked_enqueues=%llu unknown_enqueues=%llu "
	       "acked_completions=%llu acked_fails=%llu\n"
	       "  deliveries=%llu duplicate_deliveries=%llu "
	       "dead_on_arrival=%llu\n"
	       "  lost=%llu reverted=%llu delivered_after_done=%llu "
	       "stale_accepted=%llu double_leases=%llu\n"
	       "  over_attempts=%llu dup_keys=%llu dup_payloads=%llu "
	       "integrity_failures=%llu\n"
	       "  max_lost_per_round=%llu max_loss_window_ms=%lld\n",
	    o->cut ? "cut" : "kill", o->durability,
	    o->early_ack ? " early-ack" : "", o->rounds, o->seed,
	    (unsigned long long) c->acked_enqueues,
	    (unsigned long long) h->unknown_enqueues,
	    (unsigned long long) c->acked_completions,
	    (unsigned long long) h->fails_acked,
	    (unsigned long long) c->deliveries,
	    (unsigned long long) c->duplicate_deliveries,
	    (unsigned long long) h->dead_on_arrival,
	    (unsigned long long) c->lost, (unsigned long long) c->reverted,
	    (unsigned long long) c->delivered_after_done,
	    (unsigned long long) c->stale_accepted,
	    (unsigned long long) c->double_leases,
	    (unsigned long long) c->over_attempts,
	    (unsigned long long) c->dup_keys,
	    (unsigned long long) c->dup_payloads,
	    (unsigned long long) c->integrity_failures,
	    (unsigned long long) max_lost, (long long) max_window);
}

static int
verdict(const struct opts *o, const struct counts *c)
{
	uint64_t lost = c->lost + c->reverted;
	uint64_t other = c->delivered_after_done + c->stale_accepted
	    + c->double_leases + c->over_attempts + c->dup_keys
	    + c->dup_payloads;

	if (c->integrity_failures > 0 || c->acked_enqueues == 0
	    || c->acked_completions == 0) {
		printf(
		    "crash_harness: FAILED (no load, or a damaged store)\n");
		return (1);
	}
	if (o->expect_loss) {
		printf("crash_harness: negative control %s\n",
		    lost > 0 ? "caught (acknowledged work was lost, as it "
		               "must be)"
		             : "NOT CAUGHT: nothing was lost");
		return (lost > 0 ? 0 : 1);
	}
	printf("crash_harness: %s\n", lost + other == 0 ? "ok" : "FAILED");
	return (lost + other == 0 ? 0 : 1);
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct dsrv s;
	struct history h;
	struct counts c = { 0 };
	struct load l = { 0 };
	uint64_t max_lost = 0;
	int64_t max_window = 0, oldest;

	if (parse(&o, argc, argv) != 0) {
		return (2);
	}
	const char *args[] = { "--durability", o.durability, "--log-level",
		"warn", NULL, NULL, NULL };
	bool use_faultfs = o.cut || o.early_ack;
	if (dsrv_init(&s, use_faultfs ? "CAIRND_FAULTFS" : "CAIRND", "tcp")
	    != 0) {
		return (2);
	}
	/* On PostgreSQL (CAIRN_TEST_STORE), in a schema of its own; kill
	 * only: the power cut and the early answer are SQLite's. */
	const char *pg = getenv("CAIRN_TEST_STORE");
	char schema[64];
	if (pg != NULL && strncmp(pg, "postgres", 8) == 0) {
		if (use_faultfs) {
			fprintf(stderr,
			    "crash_harness: PostgreSQL: --fault "
			    "kill only\n");
			return (2);
		}
		snprintf(schema, sizeof(schema), "crash_%d", (int) getpid());
		snprintf(s.store, sizeof(s.store), "%s", pg);
		args[4] = "--pg-schema";
		args[5] = schema;
		crash_use_postgres(pg, schema);
	}
	signal(SIGPIPE, SIG_IGN);
	srand(o.seed);
	crash_write_ctl(&s, o.early_ack, 0, o.seed);
	if (dsrv_start(&s, args) != 0) {
		dsrv_cleanup(&s);
		return (2);
	}
	history_init(&h);
	l = (struct load) { .url = s.url,
		.h = &h,
		.nprod = o.producers,
		.nwork = o.workers,
		.seed = o.seed };
	load_start(&l);
	for (int r = 0; r < o.rounds; r++) {
		sleep_ms(o.round_ms / 3 + rand() % (o.round_ms * 2 / 3));
		int64_t t = crash_fault(&s, o.cut, o.early_ack, o.seed, r);
		if (t < 0) {
			c.integrity_failures++;
			break;
		}
		c.integrity_failures += !crash_integrity_ok(&s);
		uint64_t lost = check_store(&h, &s, false, &c, &oldest);
		max_lost = lost > max_lost ? lost : max_lost;
		if (oldest != 0 && t - oldest > max_window) {
			max_window = t - oldest;
		}
		if (dsrv_start(&s, args) != 0) {
			c.integrity_failures++;
			break;
		}
	}
	load_stop_producers(&l);
	drain(s.url);
	load_stop(&l);
	if (dsrv_stop(&s) != 0) {
		c.integrity_failures++;
	}
	c.integrity_failures += !crash_integrity_ok(&s);
	uint64_t lost = check_store(&h, &s, true, &c, &oldest);
	max_lost = lost > max_lost ? lost : max_lost;
	check_history(&h, &c);
	report(&o, &c, &h, max_lost, max_window);
	int rv = verdict(&o, &c);
	if (rv != 0) {
		setenv("CAIRN_TEST_KEEP", "1", 1);
		printf("crash_harness: kept %s\n", s.dir);
	}
	dsrv_cleanup(&s);
	history_free(&h);
	return (rv);
}
