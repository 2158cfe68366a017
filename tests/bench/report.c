/*
 * report.c - the result of a run as text for people and as one JSON
 * object for scripts (scripts/bench-compare.sh, the smoke test).
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"

const char *const bench_rpc_name[RPC_COUNT_] = {
	[RPC_PING] = "Ping",
	[RPC_ENQUEUE] = "Enqueue",
	[RPC_LEASE] = "Lease",
	[RPC_COMPLETE] = "Complete",
	[RPC_COMPLETE_BATCH] = "CompleteBatch",
	[RPC_HEARTBEAT] = "Heartbeat",
	[RPC_FSYNC] = "fdatasync",
	[RPC_START_WORKFLOW] = "StartWorkflow",
	[RPC_WF_RESULT] = "start-to-result",
};

/* unit names what a workload's "tasks" count. */
static const char *
unit(const struct bench_options *opt)
{
	switch (opt->workload) {
	case WL_PING:
		return ("round trips");
	case WL_ENQUEUE:
		return ("tasks enqueued");
	case WL_DRAIN:
		return ("tasks leased and completed");
	case WL_LIFECYCLE:
	case WL_BATCH:
		return ("lifecycles");
	case WL_FSYNC:
		return ("fdatasyncs");
	case WL_WORKFLOW:
		return ("runs");
	case WL_HEARTBEAT:
		return ("heartbeats");
	}
	return ("tasks");
}

static double
per_s(uint64_t n, double s)
{
	return (s > 0 ? (double) n / s : 0);
}

static double
us(uint64_t ns)
{
	return ((double) ns / 1000.0);
}

/* commits_and_ratio gives the server's commits in the run and the
 * requests per commit; false when /metrics was not available. */
static bool
commits_and_ratio(const struct bench_result *r, double *commits, double *ratio)
{
	if (!r->before.have || !r->after.have) {
		return (false);
	}
	*commits = r->after.commits - r->before.commits;
	*ratio = *commits > 0 ? (r->after.ops - r->before.ops) / *commits : 0;
	return (true);
}

/* per_run divides a workflow worker's counter by the runs counted. */
static double
per_run(uint64_t n, const struct bench_result *r)
{
	return (r->tasks > 0 ? (double) n / (double) r->tasks : 0);
}

/* per_activity gives CPU seconds per activity completed, in ms: runs
 * still in flight at the end are in the CPU time and in the activities
 * alike. */
static double
per_activity(double cpu_s, const struct bench_result *r)
{
	return (r->activities > 0 ? cpu_s * 1e3 / (double) r->activities : 0);
}

static uint64_t
leases(const struct bench_result *r)
{
	return (r->wf.leases_full + r->wf.leases_delta);
}

static void
workflow_text(const struct bench_options *opt, const struct bench_result *r)
{
	printf("  workflow: %u activities per run (%s), %d turns at once, "
	       "log cache %s\n",
	    opt->activities, opt->parallel ? "parallel" : "sequential",
	    opt->wf_workers, opt->no_cache ? "off" : "on");
	printf("  activities: %.0f/s\n", per_s(r->activities, r->elapsed_s));
	printf("  per run: %.1f turns, %.1f leases (%.1f full), %.1f entries "
	       "leased (%.1f per lease), %.1f advances, %.1f commands "
	       "replayed, %.3f ms in the workflow code",
	    per_run(r->wf.turns, r), per_run(leases(r), r),
	    per_run(r->wf.leases_full, r), per_run(r->wf.entries_leased, r),
	    leases(r) > 0 ? (double) r->wf.entries_leased / (double) leases(r)
	                  : 0,
	    per_run(r->wf.advances, r), per_run(r->wf_replayed, r),
	    per_run(r->wf_code_ns, r) / 1e6);
	printf("\n");
	if (r->srv0.have && r->srv1.have && r->cli0.have && r->cli1.have) {
		printf("  per activity: %.3f ms server CPU, %.3f ms client "
		       "CPU (every thread of cairn-bench)\n",
		    per_activity(r->srv1.cpu_s - r->srv0.cpu_s, r),
		    per_activity(r->cli1.cpu_s - r->cli0.cpu_s, r));
	}
}

/* One unit of the workload (a lifecycle, a heartbeat...), what the
 * server spent on it: from /proc/PID (io, stat) and the fsync counter. */
struct per_task {
	bool have_io, have_cpu, have_fsyncs;
	double wchar, write_bytes, syscw, fsyncs, cpu_us;
};

static void
per_task_of(const struct bench_result *r, struct per_task *p)
{
	double n = r->tasks > 0 ? (double) r->tasks : 1;

	memset(p, 0, sizeof(*p));
	p->have_io = r->io0.have && r->io1.have && r->tasks > 0;
	p->have_cpu = r->srv0.have && r->srv1.have && r->tasks > 0;
	p->have_fsyncs = r->have_fsyncs && r->tasks > 0;
	p->wchar = (double) (r->io1.wchar - r->io0.wchar) / n;
	p->write_bytes
	    = (double) (r->io1.write_bytes - r->io0.write_bytes) / n;
	p->syscw = (double) (r->io1.syscw - r->io0.syscw) / n;
	p->fsyncs = (double) (r->fsyncs1 - r->fsyncs0) / n;
	p->cpu_us = (r->srv1.cpu_s - r->srv0.cpu_s) * 1e6 / n;
}

/* singular names one unit of the workload. */
static const char *
singular(const struct bench_options *opt)
{
	switch (opt->workload) {
	case WL_LIFECYCLE:
	case WL_BATCH:
		return ("lifecycle");
	case WL_HEARTBEAT:
		return ("heartbeat");
	case WL_WORKFLOW:
		return ("run");
	default:
		return ("task");
	}
}

static void
per_task_text(const struct bench_options *opt, const struct bench_result *r)
{
	struct per_task p;

	per_task_of(r, &p);
	if (!p.have_io && !p.have_cpu) {
		return;
	}
	printf("  server per %s:", singular(opt));
	if (p.have_io) {
		printf(" %.0f B written (wchar), %.0f B to the disk "
		       "(write_bytes), %.2f write calls,",
		    p.wchar, p.write_bytes, p.syscw);
	}
	if (p.have_fsyncs) {
		printf(" %.3f fsyncs,", p.fsyncs);
	} else {
		printf(" fsyncs not counted,");
	}
	printf(" %.1f us CPU\n", p.cpu_us);
}

static void json_str(const char *s);

/* pages_text prints what libcairn-pages.so counted (--pages), per unit.
 * It counted the server's whole life, so the few rpcs that ended after
 * the clock stopped are in it too: a slight overcount. */
static void
pages_text(const struct bench_options *opt, const struct bench_result *r)
{
	const struct bench_pages *p = &r->pages;
	double n = r->tasks > 0 ? (double) r->tasks : 1;
	uint64_t named = 0;

	if (!opt->pages) {
		return;
	}
	if (!p->have) {
		printf("  server pages: not counted (no libcairn-pages.so, or "
		       "not SQLite)\n");
		return;
	}
	printf("  server pages per %s: %.2f to the log, %.2f copied by "
	       "checkpoints, %.3f syncs; to the log, by owner:\n",
	    singular(opt), (double) p->frames / n, (double) p->db_writes / n,
	    (double) p->syncs / n);
	for (int i = 0; i < p->owners; i++) {
		named += p->owner_frames[i];
		if ((double) p->owner_frames[i] / n >= 0.005) {
			printf("    %-32s %8.3f\n", p->owner[i],
			    (double) p->owner_frames[i] / n);
		}
	}
	printf("    %-32s %8.3f\n", "(the rest)",
	    (double) (p->frames - named) / n);
}

static void
pages_json(const struct bench_result *r)
{
	const struct bench_pages *p = &r->pages;
	double n = r->tasks > 0 ? (double) r->tasks : 1;

	printf("  \"pages\": ");
	if (!p->have) {
		printf("null,\n");
		return;
	}
	printf("{\"log_per_task\": %.3f, \"checkpoint_per_task\": %.3f, "
	       "\"syncs_per_task\": %.3f, \"owners\": {",
	    (double) p->frames / n, (double) p->db_writes / n,
	    (double) p->syncs / n);
	for (int i = 0; i < p->owners; i++) {
		printf("%s", i > 0 ? ", " : "");
		json_str(p->owner[i]);
		printf(": %.3f", (double) p->owner_frames[i] / n);
	}
	printf("}},\n");
}

void
bench_report_text(
    const struct bench_options *opt, const struct bench_result *r)
{
	double commits, ratio;

	printf("cairn-bench %s: %d client%s", opt->workload_name, opt->clients,
	    opt->clients == 1 ? "" : "s");
	if (opt->workload == WL_LIFECYCLE || opt->workload == WL_BATCH) {
		printf(" (%d producers, %d workers)", opt->producers,
		    opt->workers);
	} else if (opt->workload == WL_WORKFLOW) {
		printf(" (%d producers, %d task workers) and a workflow "
		       "worker",
		    opt->producers, opt->workers);
	}
	printf(", %.1f s, payload %zu B", r->elapsed_s, opt->payload);
	if (opt->workload == WL_BATCH || opt->batch > 1) {
		printf(", batch %u, lease batch %u", opt->batch,
		    opt->lease_batch);
	}
	if (r->store[0] != 0) {
		printf("\n  store: %s\n", r->store);
	} else {
		printf("\n  server: %s\n", r->server);
	}
	if (r->backlog_filled > 0) {
		printf("  backlog: %llu tasks enqueued in %.1f s\n",
		    (unsigned long long) r->backlog_filled, r->fill_s);
	}
	printf("  throughput: %.0f %s/s, %.0f requests/s, %llu errors\n",
	    per_s(r->tasks, r->elapsed_s), unit(opt),
	    per_s(r->requests, r->elapsed_s), (unsigned long long) r->errors);
	printf("  %-15s %10s %10s %9s %9s %9s %9s\n", "latency (us)", "count",
	    "per s", "p50", "p99", "p99.9", "max");
	for (int i = 0; i < RPC_COUNT_; i++) {
		const struct hist *h = &r->h[i];
		if (h->count == 0) {
			continue;
		}
		printf("  %-15s %10llu %10.0f %9.1f %9.1f %9.1f %9.1f\n",
		    bench_rpc_name[i], (unsigned long long) h->count,
		    per_s(h->count, r->elapsed_s), us(hist_quantile(h, 0.5)),
		    us(hist_quantile(h, 0.99)), us(hist_quantile(h, 0.999)),
		    us(h->max_ns));
	}
	if (commits_and_ratio(r, &commits, &ratio)) {
		printf("  server: %.0f commits (%.0f/s), %.2f requests per "
		       "commit\n",
		    commits, commits / r->elapsed_s, ratio);
	} else if (opt->workload != WL_FSYNC) {
		printf("  server: commits unavailable (no /metrics)\n");
	}
	if (r->srv0.have && r->srv1.have && r->requests > 0) {
		printf("  server: %.1f us CPU and %.2f context switches per "
		       "request\n",
		    (r->srv1.cpu_s - r->srv0.cpu_s) * 1e6
		        / (double) r->requests,
		    (double) (r->srv1.switches - r->srv0.switches)
		        / (double) r->requests);
	}
	per_task_text(opt, r);
	pages_text(opt, r);
	if (r->cli0.have && r->cli1.have && r->requests > 0) {
		printf("  client: %.1f us CPU per request\n",
		    (r->cli1.cpu_s - r->cli0.cpu_s) * 1e6
		        / (double) r->requests);
	}
	if (r->rss_kib >= 0) {
		printf("  server memory: RSS %.1f MiB, peak %.1f MiB",
		    r->rss_kib / 1024.0, r->rss_peak_kib / 1024.0);
		if (r->rss_after_fill_kib >= 0) {
			printf(", %.1f MiB after the backlog was filled",
			    r->rss_after_fill_kib / 1024.0);
		}
		printf("\n");
	}
	if (opt->workload == WL_WORKFLOW) {
		workflow_text(opt, r);
	}
	if (r->first_error != NULL) {
		printf("  first error: %s\n", r->first_error);
	}
}

static void
json_str(const char *s)
{
	putchar('"');
	for (; s != NULL && *s != 0; s++) {
		unsigned char ch = (unsigned char) *s;
		if (ch == '"' || ch == '\\') {
			printf("\\%c", ch);
		} else if (ch < 0x20) {
			printf("\\u%04x", ch);
		} else {
			putchar(ch);
		}
	}
	putchar('"');
}

static void
json_num_or_null(const char *key, bool have, double v, bool last)
{
	printf("    \"%s\": ", key);
	if (have) {
		printf("%.3f", v);
	} else {
		printf("null");
	}
	printf("%s\n", last ? "" : ",");
}

static void
json_rpcs(const struct bench_result *r)
{
	bool first = true;

	printf("  \"rpcs\": {");
	for (int i = 0; i < RPC_COUNT_; i++) {
		const struct hist *h = &r->h[i];
		if (h->count == 0) {
			continue;
		}
		printf("%s\n    ", first ? "" : ",");
		json_str(bench_rpc_name[i]);
		printf(
		    ": {\"count\": %llu, \"per_s\": %.1f, \"mean_us\": %.1f, "
		    "\"p50_us\": %.1f, \"p99_us\": %.1f, \"p999_us\": %.1f, "
		    "\"max_us\": %.1f}",
		    (unsigned long long) h->count,
		    per_s(h->count, r->elapsed_s),
		    us(h->sum_ns / (h->count ? h->count : 1)),
		    us(hist_quantile(h, 0.5)), us(hist_quantile(h, 0.99)),
		    us(hist_quantile(h, 0.999)), us(h->max_ns));
		first = false;
	}
	printf("\n  },\n");
}

static void
workflow_json(const struct bench_options *opt, const struct bench_result *r)
{
	printf("  \"workflow\": {\"activities_per_run\": %u, "
	       "\"parallel\": %s, \"wf_workers\": %d, \"cache\": %s,\n"
	       "    \"activities\": %llu, \"activities_per_s\": %.1f,\n"
	       "    \"turns\": %llu, \"leases_full\": %llu, "
	       "\"leases_delta\": %llu, \"entries_leased\": %llu,\n"
	       "    \"advances\": %llu, \"history_loads\": %llu, "
	       "\"task_failures\": %llu, \"replayed\": %llu, "
	       "\"code_ms\": %.3f,\n    \"server_cpu_ms_per_activity\": "
	       "%.3f, \"client_cpu_ms_per_activity\": %.3f},\n",
	    opt->activities, opt->parallel ? "true" : "false", opt->wf_workers,
	    opt->no_cache ? "false" : "true",
	    (unsigned long long) r->activities,
	    per_s(r->activities, r->elapsed_s),
	    (unsigned long long) r->wf.turns,
	    (unsigned long long) r->wf.leases_full,
	    (unsigned long long) r->wf.leases_delta,
	    (unsigned long long) r->wf.entries_leased,
	    (unsigned long long) r->wf.advances,
	    (unsigned long long) r->wf.history_loads,
	    (unsigned long long) r->wf.task_failures,
	    (unsigned long long) r->wf_replayed, (double) r->wf_code_ns / 1e6,
	    per_activity(r->srv1.cpu_s - r->srv0.cpu_s, r),
	    per_activity(r->cli1.cpu_s - r->cli0.cpu_s, r));
}

void
bench_report_json(
    const struct bench_options *opt, const struct bench_result *r)
{
	double commits = 0, ratio = 0;
	bool have = commits_and_ratio(r, &commits, &ratio);

	printf("{\n  \"workload\": ");
	json_str(opt->workload_name);
	printf(",\n  \"store\": ");
	json_str(r->store[0] != 0 ? r->store : NULL);
	printf(",\n  \"server\": ");
	json_str(r->server);
	printf(",\n  \"clients\": %d,\n  \"producers\": %d,\n"
	       "  \"workers\": %d,\n",
	    opt->clients, opt->producers, opt->workers);
	printf("  \"payload_bytes\": %zu,\n  \"batch\": %u,\n"
	       "  \"lease_batch\": %u,\n  \"complete_next\": %s,\n",
	    opt->payload, opt->batch, opt->lease_batch,
	    opt->complete_next ? "true" : "false");
	printf("  \"backlog\": %llu,\n  \"fill_s\": %.3f,\n",
	    (unsigned long long) r->backlog_filled, r->fill_s);
	printf("  \"duration_s\": %.3f,\n  \"elapsed_s\": %.3f,\n",
	    opt->duration_s, r->elapsed_s);
	printf("  \"requests\": %llu,\n  \"requests_per_s\": %.1f,\n",
	    (unsigned long long) r->requests,
	    per_s(r->requests, r->elapsed_s));
	printf("  \"tasks\": %llu,\n  \"tasks_per_s\": %.1f,\n"
	       "  \"unit\": \"%s\",\n  \"errors\": %llu,\n",
	    (unsigned long long) r->tasks, per_s(r->tasks, r->elapsed_s),
	    unit(opt), (unsigned long long) r->errors);
	printf("  \"first_error\": ");
	if (r->first_error != NULL) {
		json_str(r->first_error);
	} else {
		printf("null");
	}
	printf(",\n");
	json_rpcs(r);
	if (opt->workload == WL_WORKFLOW) {
		workflow_json(opt, r);
	}
	pages_json(r);
	printf("  \"server_stats\": {\n");
	json_num_or_null("commits", have, commits, false);
	json_num_or_null("requests_per_commit", have, ratio, false);
	bool su = r->srv0.have && r->srv1.have && r->requests > 0;
	double n = r->requests > 0 ? (double) r->requests : 1;
	json_num_or_null("cpu_us_per_request", su,
	    (r->srv1.cpu_s - r->srv0.cpu_s) * 1e6 / n, false);
	json_num_or_null("switches_per_request", su,
	    (double) (r->srv1.switches - r->srv0.switches) / n, false);
	json_num_or_null("client_cpu_us_per_request",
	    r->cli0.have && r->cli1.have && r->requests > 0,
	    (r->cli1.cpu_s - r->cli0.cpu_s) * 1e6 / n, false);
	struct per_task p;
	per_task_of(r, &p);
	json_num_or_null("wchar_per_task", p.have_io, p.wchar, false);
	json_num_or_null(
	    "write_bytes_per_task", p.have_io, p.write_bytes, false);
	json_num_or_null("write_calls_per_task", p.have_io, p.syscw, false);
	json_num_or_null("fsyncs_per_task", p.have_fsyncs, p.fsyncs, false);
	json_num_or_null("cpu_us_per_task", p.have_cpu, p.cpu_us, false);
	json_num_or_null(
	    "rss_mib", r->rss_kib >= 0, r->rss_kib / 1024.0, false);
	json_num_or_null("rss_peak_mib", r->rss_peak_kib >= 0,
	    r->rss_peak_kib / 1024.0, false);
	json_num_or_null("rss_after_fill_mib", r->rss_after_fill_kib >= 0,
	    r->rss_after_fill_kib / 1024.0, true);
	printf("  }\n}\n");
}
