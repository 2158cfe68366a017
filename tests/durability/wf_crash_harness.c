/*
 * wf_crash_harness.c - the crash proofs of durable workflows: runs of the
 * crash flow (wf_crash.h) started and signaled by producers, driven by C
 * workflow worker processes and task worker processes that a chaos
 * thread kills with SIGKILL at random moments, cairnd ended by a fault in
 * every round and started again, and the checker over what the clients
 * saw and the final logs.
 *
 *   wf_crash_harness [--fault kill|cut] [--early-ack] [--expect-loss]
 *                    [--rounds N] [--round-ms MS] [--producers N]
 *                    [--observers N] [--wf-workers N] [--task-workers N]
 *                    [--inflight N] [--drain-ms MS] [--seed N]
 *
 * kill: kill -9 of the production cairnd (CAIRND). cut: a power cut of
 * cairnd-faultfs (CAIRND_FAULTFS), as crash_harness does. --early-ack:
 * cairnd-faultfs answers before COMMIT, and --expect-loss makes the run
 * pass only if the checker caught what that loses (the negative
 * control). CAIRN_WF_CRASH_ROUNDS overrides --rounds, for long runs by
 * hand. With CAIRN_TEST_STORE a postgres:// URI, cairnd runs on
 * PostgreSQL, in a schema of its own (kill only). WF_CRASH_WORKER names
 * the worker program (wf_crash_worker.c).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crash_fault.h"
#include "wf_crash.h"

struct opts {
	bool cut, early_ack, expect_loss;
	int rounds, round_ms, producers, observers, wf_workers, task_workers;
	int inflight, drain_ms;
	unsigned seed;
};

static int
parse(struct opts *o, int argc, char **argv)
{
	*o = (struct opts) { .rounds = 3,
		.round_ms = 2000,
		.producers = 2,
		.observers = 2,
		.wf_workers = 2,
		.task_workers = 2,
		.inflight = 24,
		.drain_ms = 60000,
		.seed = (unsigned) wall_ms() };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
		int *num = NULL;
		if (strcmp(a, "--fault") == 0) {
			o->cut = strcmp(v, "cut") == 0, i++;
		} else if (strcmp(a, "--early-ack") == 0) {
			o->early_ack = true;
		} else if (strcmp(a, "--expect-loss") == 0) {
			o->expect_loss = true;
		} else if (strcmp(a, "--seed") == 0) {
			o->seed = (unsigned) strtoul(v, NULL, 10), i++;
		} else if (strcmp(a, "--rounds") == 0) {
			num = &o->rounds;
		} else if (strcmp(a, "--round-ms") == 0) {
			num = &o->round_ms;
		} else if (strcmp(a, "--producers") == 0) {
			num = &o->producers;
		} else if (strcmp(a, "--observers") == 0) {
			num = &o->observers;
		} else if (strcmp(a, "--wf-workers") == 0) {
			num = &o->wf_workers;
		} else if (strcmp(a, "--task-workers") == 0) {
			num = &o->task_workers;
		} else if (strcmp(a, "--inflight") == 0) {
			num = &o->inflight;
		} else if (strcmp(a, "--drain-ms") == 0) {
			num = &o->drain_ms;
		} else {
			fprintf(stderr, "wf_crash_harness: unknown %s\n", a);
			return (-1);
		}
		if (num != NULL) {
			*num = atoi(v), i++;
		}
	}
	if (getenv("CAIRN_WF_CRASH_ROUNDS") != NULL) {
		o->rounds = atoi(getenv("CAIRN_WF_CRASH_ROUNDS"));
	}
	return (
	    o->round_ms >= 100 && o->wf_workers >= 1 && o->task_workers >= 1
	        ? 0
	        : -1);
}

static void
report(const struct opts *o, const char *store, const struct wfc_load *l,
    const struct wfc_counts *c)
{
	printf("wf_crash_harness: fault=%s%s store=%s rounds=%d seed=%u\n"
	       "  runs: started=%llu signaled=%llu finished_ok=%llu "
	       "child_runs=%llu\n"
	       "  entries: recorded=%llu observed=%llu (in %llu "
	       "snapshots)\n"
	       "  activities=%llu executions=%llu duplicates=%llu; step "
	       "executions=%llu duplicates=%llu\n"
	       "  acknowledged: step checkpoints=%llu task "
	       "completions=%llu; outcomes seen in replay=%llu\n"
	       "  worker processes killed=%llu\n"
	       "  lost: missing=%llu unfinished=%llu wrong_result=%llu "
	       "extra_runs=%llu changed=%llu shortened=%llu\n"
	       "        step_acks_lost=%llu task_acks_lost=%llu "
	       "orphan_execs=%llu foreign_result=%llu replay_changed=%llu\n"
	       "        integrity_failures=%llu\n",
	    o->cut ? "cut" : "kill", o->early_ack ? " early-ack" : "",
	    strncmp(store, "postgres", 8) == 0 ? "postgres" : "sqlite",
	    o->rounds, o->seed, (unsigned long long) c->started,
	    (unsigned long long) c->signaled,
	    (unsigned long long) c->finished_ok,
	    (unsigned long long) c->child_runs,
	    (unsigned long long) c->entries_recorded,
	    (unsigned long long) c->entries_observed,
	    (unsigned long long) c->observations,
	    (unsigned long long) c->activities,
	    (unsigned long long) c->activity_execs,
	    (unsigned long long) c->activity_dups,
	    (unsigned long long) c->step_execs,
	    (unsigned long long) c->step_dups,
	    (unsigned long long) c->step_acks,
	    (unsigned long long) c->task_acks,
	    (unsigned long long) c->replay_seen, (unsigned long long) l->kills,
	    (unsigned long long) c->missing,
	    (unsigned long long) c->unfinished,
	    (unsigned long long) c->wrong_result,
	    (unsigned long long) c->extra_runs,
	    (unsigned long long) c->changed, (unsigned long long) c->shortened,
	    (unsigned long long) c->step_acks_lost,
	    (unsigned long long) c->task_acks_lost,
	    (unsigned long long) c->orphan_execs,
	    (unsigned long long) c->foreign_result,
	    (unsigned long long) c->replay_changed,
	    (unsigned long long) c->integrity_failures);
}

static int
verdict(const struct opts *o, const struct wfc_counts *c)
{
	uint64_t bad = wfc_violations(c) - c->integrity_failures;

	if (c->integrity_failures > 0 || c->started == 0
	    || (c->finished_ok == 0 && !o->expect_loss)) {
		printf("wf_crash_harness: FAILED (no load, or a damaged "
		       "store)\n");
		return (1);
	}
	if (o->expect_loss) {
		printf("wf_crash_harness: negative control %s\n",
		    bad > 0 ? "caught (acknowledged work was lost, as it "
		              "must be)"
		            : "NOT CAUGHT: nothing was lost");
		return (bad > 0 ? 0 : 1);
	}
	printf("wf_crash_harness: %s\n", bad == 0 ? "ok" : "FAILED");
	return (bad == 0 ? 0 : 1);
}

/* rounds ends the server rounds times at a random moment, checks the
 * store and starts it again. */
static void
rounds(const struct opts *o, struct dsrv *s, const char *const *args,
    struct wfc_counts *c)
{
	for (int r = 0; r < o->rounds; r++) {
		sleep_ms(o->round_ms / 3 + rand() % (o->round_ms * 2 / 3));
		if (crash_fault(s, o->cut, o->early_ack, o->seed, r) < 0) {
			c->integrity_failures++;
			return;
		}
		c->integrity_failures += !crash_integrity_ok(s);
		/* A little downtime: workers and clients see a dead server,
		 * and leases run towards their deadlines. */
		sleep_ms(rand() % 300);
		if (dsrv_start(s, args) != 0) {
			c->integrity_failures++;
			return;
		}
	}
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct dsrv s;
	struct wfc_load l;
	struct wfc_counts c = { 0 };
	char schema[64];

	if (parse(&o, argc, argv) != 0 || getenv("WF_CRASH_WORKER") == NULL) {
		fprintf(stderr,
		    "wf_crash_harness: bad options, or "
		    "WF_CRASH_WORKER unset\n");
		return (2);
	}
	const char *args[] = { "--log-level", "warn", NULL, NULL, NULL };
	bool faultfs = o.cut || o.early_ack;
	if (dsrv_init(&s, faultfs ? "CAIRND_FAULTFS" : "CAIRND", "tcp") != 0) {
		return (2);
	}
	const char *pg = getenv("CAIRN_TEST_STORE");
	if (pg != NULL && strncmp(pg, "postgres", 8) == 0) {
		if (faultfs) {
			fprintf(stderr,
			    "wf_crash_harness: PostgreSQL: "
			    "--fault kill only\n");
			return (2);
		}
		snprintf(schema, sizeof(schema), "wfcrash_%d", (int) getpid());
		snprintf(s.store, sizeof(s.store), "%s", pg);
		args[2] = "--pg-schema";
		args[3] = schema;
	}
	signal(SIGPIPE, SIG_IGN);
	srand(o.seed);
	crash_write_ctl(&s, o.early_ack, 0, o.seed);
	if (dsrv_start(&s, args) != 0) {
		dsrv_cleanup(&s);
		return (2);
	}
	l = (struct wfc_load) { .url = s.url,
		.dir = s.dir,
		.worker = getenv("WF_CRASH_WORKER"),
		.seed = o.seed,
		.producers = o.producers,
		.observers = o.observers,
		.max_inflight = o.inflight,
		.cap = 20000,
		.chaos = true };
	if (wfc_load_start(&l, o.wf_workers, o.task_workers) != 0) {
		dsrv_cleanup(&s);
		return (2);
	}
	rounds(&o, &s, args, &c);
	wfc_load_stop_producers(&l);
	uint64_t left = wfc_load_drain(&l, o.drain_ms);
	wfc_load_stop(&l);
	pthread_mutex_lock(&l.mu);
	c.observations = l.counts.observations;
	c.entries_observed = l.counts.entries_observed;
	c.changed = l.counts.changed;
	c.shortened = l.counts.shortened;
	pthread_mutex_unlock(&l.mu);
	cairn_client *cl;
	cairn_client_options co = { .timeout_ms = 10000 };
	if (s.pid <= 0 || cairn_client_open(&cl, s.url, &co, NULL, 0) != 0) {
		c.integrity_failures++;
	} else {
		wfc_check_final(cl, l.runs, l.nruns, s.dir, &c);
		cairn_client_close(cl);
	}
	if (left > 0) {
		printf("wf_crash_harness: %llu runs still running after the "
		       "drain\n",
		    (unsigned long long) left);
	}
	if (dsrv_stop(&s) != 0) {
		c.integrity_failures++;
	}
	c.integrity_failures += !crash_integrity_ok(&s);
	report(&o, s.store, &l, &c);
	int rv = verdict(&o, &c);
	if (rv != 0) {
		setenv("CAIRN_TEST_KEEP", "1", 1);
		printf("wf_crash_harness: kept %s\n", s.dir);
	}
	dsrv_cleanup(&s);
	free(l.runs);
	return (rv);
}
