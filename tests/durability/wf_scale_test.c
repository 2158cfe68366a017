/*
 * wf_scale_test.c - long workflows complete, and what their replay costs.
 *
 *   wf_scale_test [--steps N] [--fan N] [--seq N]
 *
 * Through the real cairnd, a C workflow worker process and a task worker
 * process (wf_crash_worker, with the flows of wf_scale.h):
 *
 *   steps  a run of N (1,000) sequential steps; its workflow worker is
 *          killed with SIGKILL half way, and another one replays the
 *          half that was recorded and finishes it;
 *   fan    a run of N (200) activities started at once and waited for
 *          together, with the worker's log cache and without it;
 *   seq    (by hand) a run of N activities one after the other: turn k
 *          replays k commands, with the cache and without it.
 *
 * Each must end with the result its code computes. For each, the worker's
 * counters (turns, leases, entries received, advances, commands
 * replayed), the bytes it read and its CPU (/proc/self), and the server's
 * CPU, bytes read and written (/proc/PID) and rpcs (/metrics) are printed
 * as one line; docs/RELIABILITY.md has the figures. No timing is judged.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "dur_util.h"
#include "harness.h"
#include "ops_http.h"
#include "wf_scale.h"

static int n_steps = 1000, n_fan = 200, n_seq = 0;

struct fx {
	struct dsrv srv;
	int http_port;
	cairn_client *c;
	pid_t tasks;
};

/* What one process spent, read from /proc. */
struct usage {
	double cpu_ms;
	unsigned long long rchar, wchar;
};

static void
usage_of(pid_t pid, struct usage *u)
{
	char path[64], line[256];
	unsigned long long ut = 0, st = 0;
	FILE *f;

	memset(u, 0, sizeof(*u));
	snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
	if ((f = fopen(path, "r")) != NULL) {
		char *p
		    = fgets(line, sizeof(line), f) ? strrchr(line, ')') : NULL;
		if (p != NULL) {
			sscanf(p + 2,
			    "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
			    "%llu %llu",
			    &ut, &st);
		}
		fclose(f);
	}
	u->cpu_ms
	    = (double) (ut + st) * 1000.0 / (double) sysconf(_SC_CLK_TCK);
	snprintf(path, sizeof(path), "/proc/%d/io", (int) pid);
	if ((f = fopen(path, "r")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL) {
			sscanf(line, "rchar: %llu", &u->rchar);
			sscanf(line, "wchar: %llu", &u->wchar);
		}
		fclose(f);
	}
}

static const char *const methods[] = { "LeaseWorkflow", "AdvanceWorkflow",
	"HeartbeatWorkflow", "WorkflowHistory", "Lease", "Complete" };
#define NMETHODS (sizeof(methods) / sizeof(methods[0]))

static void
rpcs(struct fx *f, double *out)
{
	char *body = NULL, series[128];

	if (http_get(f->http_port, "/metrics", &body) != 200) {
		fail_msg("no /metrics");
	}
	for (size_t i = 0; i < NMETHODS; i++) {
		snprintf(series, sizeof(series),
		    "cairn_requests_total{method=\"%s\",code=\"OK\"}",
		    methods[i]);
		out[i] = 0;
		prom_value(body, series, &out[i]);
	}
	free(body);
}

/* spawn starts a worker process: "tasks" (4 threads on the scale
 * flows' queue, results a function of the payload alone) or
 * "workflows" (one turn at a time, its counters written to stats). */
static pid_t
spawn(struct fx *f, const char *mode, const char *stats, bool no_cache)
{
	const char *bin = getenv("WF_CRASH_WORKER"), *argv[16];
	char events[256];
	int n = 0;
	pid_t pid;

	snprintf(events, sizeof(events), "%s/%s.events", f->srv.dir, mode);
	argv[n++] = bin;
	argv[n++] = f->srv.url;
	argv[n++] = mode;
	argv[n++] = "--events";
	argv[n++] = events;
	if (strcmp(mode, "tasks") == 0) {
		argv[n++] = "--queue";
		argv[n++] = WFS_TASK_QUEUE;
		argv[n++] = "--threads";
		argv[n++] = "4";
		argv[n++] = "--plain";
	} else {
		argv[n++] = "--stats";
		argv[n++] = stats;
		argv[n++] = "--concurrency";
		argv[n++] = "1";
		if (no_cache) {
			argv[n++] = "--no-cache";
		}
	}
	argv[n] = NULL;
	if ((pid = fork()) == 0) {
		execv(bin, (char *const *) argv);
		_exit(127);
	}
	assert_true(pid > 0);
	return (pid);
}

static void
stop(pid_t pid, int sig)
{
	kill(pid, sig);
	waitpid(pid, NULL, 0);
}

/* stat_of reads one counter of a worker's stats file. */
static unsigned long long
stat_of(const char *path, const char *key)
{
	char k[64];
	unsigned long long v, found = 0;
	FILE *fp = fopen(path, "r");

	assert_non_null(fp);
	while (fscanf(fp, "%63s %llu", k, &v) == 2) {
		if (strcmp(k, key) == 0) {
			found = v;
		}
	}
	fclose(fp);
	return (found);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	cairn_client_options o = { .timeout_ms = 30000 };
	char http[64];

	f->http_port = free_port();
	snprintf(http, sizeof(http), "127.0.0.1:%d", f->http_port);
	const char *args[] = { "--http", http, "--log-level", "warn", NULL };
	if (dsrv_init(&f->srv, "CAIRND", "tcp") != 0
	    || dsrv_start(&f->srv, args) != 0) {
		fail_msg("cannot start cairnd");
	}
	assert_int_equal(
	    cairn_client_open(&f->c, f->srv.url, &o, NULL, 0), CAIRN_OK);
	f->tasks = spawn(f, "tasks", NULL, false);
	*state = f;
	return (0);
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	stop(f->tasks, SIGTERM);
	cairn_client_close(f->c);
	dsrv_cleanup(&f->srv);
	free(f);
	return (0);
}

/* A measurement: what the server did between begin and end. */
struct span {
	int64_t t0;
	struct usage srv0;
	double rpc0[NMETHODS];
};

static void
begin(struct fx *f, struct span *s)
{
	s->t0 = mono_ms();
	usage_of(f->srv.pid, &s->srv0);
	rpcs(f, s->rpc0);
}

/* end prints the figures of a span and the worker's stats file. */
static void
end(struct fx *f, const struct span *s, const char *what, const char *stats)
{
	struct usage u;
	double r[NMETHODS];
	static const char *const keys[] = { "turns", "leases_full",
		"leases_delta", "entries_leased", "history_loads", "advances",
		"replayed", "rchar", "cpu_ms" };

	usage_of(f->srv.pid, &u);
	rpcs(f, r);
	printf("wf_scale: %s: %lld ms\n  worker:", what,
	    (long long) (mono_ms() - s->t0));
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		printf(" %s=%llu", keys[i], stat_of(stats, keys[i]));
	}
	printf("\n  server: cpu_ms=%.0f rchar=%llu wchar=%llu rpcs:",
	    u.cpu_ms - s->srv0.cpu_ms, u.rchar - s->srv0.rchar,
	    u.wchar - s->srv0.wchar);
	for (size_t i = 0; i < NMETHODS; i++) {
		printf(" %s=%.0f", methods[i], r[i] - s->rpc0[i]);
	}
	printf("\n");
}

static uint64_t
start(struct fx *f, const char *type, int n)
{
	char in[16];
	uint64_t id = 0;

	snprintf(in, sizeof(in), "%d", n);
	assert_int_equal(cairn_workflow_start(f->c, NULL, type, "wfc", in,
	                     strlen(in), &id, NULL, NULL),
	    CAIRN_OK);
	return (id);
}

/* finish waits for the run and checks its result and log length. */
static void
finish(struct fx *f, uint64_t id, const char *type, int n)
{
	cairn_workflow_run *r = NULL;
	char want[64];
	bool done = false;

	for (int64_t until = mono_ms() + 240000; !done && mono_ms() < until;) {
		cairn_workflow_run_free(r);
		r = NULL;
		assert_int_equal(
		    cairn_workflow_await(f->c, id, NULL, 5000, &r, &done),
		    CAIRN_OK);
	}
	assert_true(done);
	wfs_expected(type, n, want, sizeof(want));
	if (r->state != CAIRN_WF_SUCCEEDED) {
		fail_msg("%s: %s: %s", type,
		    cairn_workflow_state_name(r->state), r->error);
	}
	assert_int_equal(r->result_len, strlen(want));
	assert_memory_equal(r->result, want, r->result_len);
	assert_int_equal(r->log_length, n);
	cairn_workflow_run_free(r);
}

static uint32_t
log_length(struct fx *f, uint64_t id)
{
	cairn_workflow_run *r;
	uint32_t n;

	assert_int_equal(cairn_workflow_get(f->c, id, NULL, &r), CAIRN_OK);
	n = r->log_length;
	cairn_workflow_run_free(r);
	return (n);
}

/* A run of n steps; its worker killed half way, another one finishes. */
static void
test_steps(void **state)
{
	struct fx *f = *state;
	char sa[256], sb[256], what[96];
	struct span s;
	uint32_t at;

	snprintf(sa, sizeof(sa), "%s/steps-a.stats", f->srv.dir);
	snprintf(sb, sizeof(sb), "%s/steps-b.stats", f->srv.dir);
	pid_t a = spawn(f, "workflows", sa, false);
	uint64_t id = start(f, "wfs_steps", n_steps);
	while ((at = log_length(f, id)) < (uint32_t) n_steps / 2) {
		sleep_ms(5);
	}
	stop(a, SIGKILL);
	at = log_length(f, id);
	begin(f, &s);
	pid_t b = spawn(f, "workflows", sb, false);
	finish(f, id, "wfs_steps", n_steps);
	stop(b, SIGTERM);
	snprintf(what, sizeof(what),
	    "%d steps, the worker killed at %u, the rest by another", n_steps,
	    at);
	end(f, &s, what, sb);
	/* The replacement replayed what was recorded, not less. */
	assert_true(stat_of(sb, "replayed") >= at);
	assert_true(stat_of(sb, "entries_leased") >= at);
}

/* fan runs a run of n parallel activities with a fresh worker. */
static void
fan(struct fx *f, const char *type, int n, bool no_cache)
{
	char st[256], what[96];
	struct span s;

	snprintf(st, sizeof(st), "%s/%s-%d.stats", f->srv.dir, type, no_cache);
	begin(f, &s);
	pid_t w = spawn(f, "workflows", st, no_cache);
	uint64_t id = start(f, type, n);
	finish(f, id, type, n);
	stop(w, SIGTERM);
	snprintf(what, sizeof(what), "%s of %d activities, %s", type + 4, n,
	    no_cache ? "no log cache" : "log cache");
	end(f, &s, what, st);
	assert_int_equal(stat_of(st, "task_failures"), 0);
}

static void
test_fan(void **state)
{
	fan(*state, "wfs_fan", n_fan, false);
	fan(*state, "wfs_fan", n_fan, true);
}

static void
test_seq(void **state)
{
	if (n_seq > 0) {
		fan(*state, "wfs_seq", n_seq, false);
		fan(*state, "wfs_seq", n_seq, true);
	}
}

int
main(int argc, char **argv)
{
	for (int i = 1; i + 1 < argc; i += 2) {
		int v = atoi(argv[i + 1]);
		if (strcmp(argv[i], "--steps") == 0) {
			n_steps = v;
		} else if (strcmp(argv[i], "--fan") == 0) {
			n_fan = v;
		} else if (strcmp(argv[i], "--seq") == 0) {
			n_seq = v;
		}
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_steps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seq, setup, teardown),
	};
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
