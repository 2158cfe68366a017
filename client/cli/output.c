/*
 * output.c - how the CLI shows tasks, stats and events: aligned text for
 * people, and JSON with the proto's field names for programs.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cairn_wire.h"
#include "cli.h"
#include "cairn_json.h"

void
fmt_time(int64_t ms, char *buf, size_t len)
{
	struct tm tm;
	time_t secs;
	int64_t rem;

	if (ms == 0) {
		snprintf(buf, len, "-");
		return;
	}
	/* Floor division, so that instants before 1970 print right too. */
	rem = ms % 1000;
	secs = (time_t) (ms / 1000);
	if (rem < 0) {
		rem += 1000;
		secs--;
	}
	if (gmtime_r(&secs, &tm) == NULL) {
		snprintf(buf, len, "%" PRId64 "ms", ms);
		return;
	}
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int) rem);
}

void
fmt_duration(int64_t ms, char *buf, size_t len)
{
	/* The largest unit that divides it exactly, so the text can be
	 * given back to any flag that takes a duration. */
	if (ms == 0 || ms % 1000 != 0) {
		snprintf(buf, len, "%" PRId64 "ms", ms);
	} else if (ms % 3600000 == 0) {
		snprintf(buf, len, "%" PRId64 "h", ms / 3600000);
	} else if (ms % 60000 == 0) {
		snprintf(buf, len, "%" PRId64 "m", ms / 60000);
	} else {
		snprintf(buf, len, "%" PRId64 "s", ms / 1000);
	}
}

static bool
has_control(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] < 0x20 || p[i] == 0x7f) {
			return (true);
		}
	}
	return (false);
}

void
print_bytes(FILE *f, const uint8_t *p, size_t n)
{
	struct json j;
	char *b64;

	if (n == 0) {
		return;
	}
	if (!cairn__utf8_valid(p, n)) {
		if ((b64 = malloc(base64_len(n) + 1)) == NULL) {
			fprintf(f, "(%zu bytes)", n);
			return;
		}
		base64_encode(p, n, b64);
		fprintf(f, "(%zu bytes, base64) %s", n, b64);
		free(b64);
		return;
	}
	if (!has_control(p, n)) {
		fwrite(p, 1, n, f);
		return;
	}
	/* Text with newlines or tabs: quoted and escaped, on one line. */
	json_init(&j, f);
	json_stringn(&j, (const char *) p, n);
}

void
line(const char *key, const char *value)
{
	printf("%-18s %s\n", key, value);
}

void
line_time(const char *key, int64_t ms)
{
	char buf[64];

	fmt_time(ms, buf, sizeof(buf));
	line(key, buf);
}

static void
line_duration(const char *key, int64_t ms)
{
	char buf[64];

	fmt_duration(ms, buf, sizeof(buf));
	line(key, buf);
}

void
line_bytes(const char *key, const uint8_t *p, size_t n)
{
	printf("%-18s ", key);
	print_bytes(stdout, p, n);
	putchar('\n');
}

void
print_task(const cairn_task *t)
{
	char buf[128];

	printf("%-18s %" PRIu64 "\n", "id:", t->id);
	line("queue:", t->queue);
	line("state:", cairn_state_name(t->state));
	if (t->cancel_requested) {
		line("cancel_requested:", "yes");
	}
	printf("%-18s %" PRId32 "\n", "priority:", t->priority);
	printf("%-18s %" PRIu32 " of %" PRIu32 "\n", "attempt:", t->attempt,
	    t->max_attempts);
	line_time("run_at:", t->run_at_ms);
	if (t->lease_token != NULL) {
		line("lease_token:", t->lease_token);
	}
	if (t->lease_deadline_ms != 0) {
		line_time("lease_deadline:", t->lease_deadline_ms);
	}
	if (t->worker_id[0] != '\0') {
		line("worker_id:", t->worker_id);
	}
	if (t->idempotency_key[0] != '\0') {
		line("idempotency_key:", t->idempotency_key);
	}
	line_duration("heartbeat_timeout:", t->heartbeat_timeout_ms);
	if (t->start_to_close_timeout_ms != 0) {
		line_duration("start_to_close:", t->start_to_close_timeout_ms);
	}
	{
		char a[32], b[32];
		fmt_duration(t->retry_initial_backoff_ms, a, sizeof(a));
		fmt_duration(t->retry_max_backoff_ms, b, sizeof(b));
		snprintf(buf, sizeof(buf), "initial %s, multiplier %g, max %s",
		    a, t->retry_multiplier, b);
		line("retry:", buf);
	}
	line_time("created_at:", t->created_at_ms);
	line_time("updated_at:", t->updated_at_ms);
	if (t->finished_at_ms != 0) {
		line_time("finished_at:", t->finished_at_ms);
	}
	if (t->last_error[0] != '\0') {
		line("last_error:", t->last_error);
	}
	line_bytes("payload:", t->payload, t->payload_len);
	if (t->details_len > 0) {
		line_bytes("details:", t->details, t->details_len);
	}
	if (t->result_len > 0 || t->state == CAIRN_SUCCEEDED) {
		line_bytes("result:", t->result, t->result_len);
	}
}

/* id_width is the width of the widest id, at least that of "ID". */
static int
id_width(cairn_task *const *tasks, size_t n)
{
	int w = 2;

	for (size_t i = 0; i < n; i++) {
		int len = snprintf(NULL, 0, "%" PRIu64, tasks[i]->id);
		w = len > w ? len : w;
	}
	return (w);
}

void
print_task_table(cairn_task *const *tasks, size_t n, bool header)
{
	int w = id_width(tasks, n);
	char when[64], att[32];

	if (header) {
		printf("%-*s  %-9s  %-8s  %8s  %-24s  %s\n", w, "ID", "STATE",
		    "ATTEMPT", "PRIORITY", "RUN_AT", "PAYLOAD");
	}
	for (size_t i = 0; i < n; i++) {
		const cairn_task *t = tasks[i];
		size_t shown = t->payload_len;

		fmt_time(t->run_at_ms, when, sizeof(when));
		snprintf(att, sizeof(att), "%" PRIu32 "/%" PRIu32, t->attempt,
		    t->max_attempts);
		printf("%-*" PRIu64 "  %-9s  %-8s  %8" PRId32 "  %-24s  ", w,
		    t->id, cairn_state_name(t->state), att, t->priority, when);
		/* A table row shows the start of the payload only; cut at a
		 * character boundary so that the text stays UTF-8. */
		if (shown > 40) {
			shown = 40;
			while (
			    shown > 0 && (t->payload[shown] & 0xc0) == 0x80) {
				shown--;
			}
		}
		print_bytes(stdout, t->payload, shown);
		fputs(shown < t->payload_len ? "...\n" : "\n", stdout);
	}
}

/* The counts of cairn_queue_stats, listed once for the table's columns and
 * the JSON members, in their order. */
static const struct {
	const char *name;   /* the JSON member */
	const char *column; /* the table's header */
	size_t offset;      /* of the uint64_t in cairn_queue_stats */
} stats_counts[] = {
	{ "pending", "PENDING", offsetof(cairn_queue_stats, pending) },
	{ "active", "ACTIVE", offsetof(cairn_queue_stats, active) },
	{ "succeeded", "SUCCEEDED", offsetof(cairn_queue_stats, succeeded) },
	{ "failed", "FAILED", offsetof(cairn_queue_stats, failed) },
	{ "canceled", "CANCELED", offsetof(cairn_queue_stats, canceled) },
	{ "due", "DUE", offsetof(cairn_queue_stats, due) },
};
#define NSTATS_COUNTS (sizeof(stats_counts) / sizeof(stats_counts[0]))

static uint64_t
stats_count(const cairn_queue_stats *s, size_t i)
{
	const char *p = (const char *) s + stats_counts[i].offset;

	return (*(const uint64_t *) (const void *) p);
}

static const cairn_queue_settings *
settings_of(const cairn_queue_settings *q, size_t nq, const char *queue)
{
	for (size_t i = 0; i < nq; i++) {
		if (strcmp(q[i].queue, queue) == 0) {
			return (&q[i]);
		}
	}
	return (NULL);
}

void
print_stats_table(const cairn_queue_stats *s, size_t n,
    const cairn_queue_settings *q, size_t nq)
{
	int w = 5;
	char age[32], limits[160];

	for (size_t i = 0; i < n; i++) {
		int len = (int) strlen(s[i].queue);
		w = len > w ? len : w;
	}
	printf("%-*s", w, "QUEUE");
	for (size_t c = 0; c < NSTATS_COUNTS; c++) {
		printf("  %9s", stats_counts[c].column);
	}
	printf("  %-10s  %s\n", "OLDEST_DUE", "LIMITS");
	for (size_t i = 0; i < n; i++) {
		fmt_duration(s[i].oldest_due_age_ms, age, sizeof(age));
		fmt_limits(
		    settings_of(q, nq, s[i].queue), limits, sizeof(limits));
		printf("%-*s", w, s[i].queue);
		for (size_t c = 0; c < NSTATS_COUNTS; c++) {
			printf("  %9" PRIu64, stats_count(&s[i], c));
		}
		printf("  %-10s  %s\n", s[i].due > 0 ? age : "-", limits);
	}
}

void
print_events_table(const cairn_event *e, size_t n)
{
	char when[64];

	printf("%-24s  %-16s  %7s  %-20s  %s\n", "AT", "KIND", "ATTEMPT",
	    "WORKER", "MESSAGE");
	for (size_t i = 0; i < n; i++) {
		fmt_time(e[i].at_ms, when, sizeof(when));
		printf("%-24s  %-16s  %7" PRIu32 "  %-20s  %s\n", when,
		    e[i].kind, e[i].attempt,
		    e[i].worker_id[0] != '\0' ? e[i].worker_id : "-",
		    e[i].message[0] != '\0' ? e[i].message : "-");
	}
}

void
json_task(struct json *j, const cairn_task *t)
{
	json_begin_object(j);
	json_kv_uint(j, "id", t->id);
	json_kv_string(j, "queue", t->queue);
	json_kv_bytes(j, "payload", t->payload, t->payload_len);
	json_kv_int(j, "priority", t->priority);
	json_kv_string(j, "state", cairn_state_name(t->state));
	json_kv_int(j, "run_at_ms", t->run_at_ms);
	json_kv_uint(j, "attempt", t->attempt);
	json_kv_uint(j, "max_attempts", t->max_attempts);
	json_key(j, "retry");
	json_begin_object(j);
	json_kv_int(j, "initial_backoff_ms", t->retry_initial_backoff_ms);
	json_key(j, "multiplier");
	json_double(j, t->retry_multiplier);
	json_kv_int(j, "max_backoff_ms", t->retry_max_backoff_ms);
	json_end_object(j);
	json_kv_int(j, "heartbeat_timeout_ms", t->heartbeat_timeout_ms);
	json_kv_int(
	    j, "start_to_close_timeout_ms", t->start_to_close_timeout_ms);
	json_kv_string(j, "idempotency_key", t->idempotency_key);
	json_kv_bytes(j, "details", t->details, t->details_len);
	json_kv_bytes(j, "result", t->result, t->result_len);
	json_kv_string(j, "last_error", t->last_error);
	json_kv_bool(j, "cancel_requested", t->cancel_requested);
	json_kv_string(j, "worker_id", t->worker_id);
	json_kv_int(j, "lease_deadline_ms", t->lease_deadline_ms);
	json_kv_int(j, "created_at_ms", t->created_at_ms);
	json_kv_int(j, "updated_at_ms", t->updated_at_ms);
	json_kv_int(j, "finished_at_ms", t->finished_at_ms);
	json_end_object(j);
}

void
json_stats(struct json *j, const cairn_queue_stats *s,
    const cairn_queue_settings *q, size_t nq)
{
	const cairn_queue_settings *set = settings_of(q, nq, s->queue);

	json_begin_object(j);
	json_kv_string(j, "queue", s->queue);
	for (size_t c = 0; c < NSTATS_COUNTS; c++) {
		json_kv_uint(j, stats_counts[c].name, stats_count(s, c));
	}
	json_kv_int(j, "oldest_due_age_ms", s->oldest_due_age_ms);
	if (set != NULL) {
		json_key(j, "settings");
		json_queue_settings(j, set);
	}
	json_end_object(j);
}

void
json_event(struct json *j, const cairn_event *e)
{
	json_begin_object(j);
	json_kv_int(j, "at_ms", e->at_ms);
	json_kv_string(j, "kind", e->kind);
	json_kv_uint(j, "attempt", e->attempt);
	json_kv_string(j, "worker_id", e->worker_id);
	json_kv_string(j, "message", e->message);
	json_end_object(j);
}
