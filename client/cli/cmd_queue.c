/*
 * cmd_queue.c - `cairn queue set|show|list`: per-queue settings, the
 * limits that leases of a queue obey and the defaults of its tasks.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cairn_json.h"
#include "cli.h"

static const char queue_help[]
    = "Usage: cairn queue SUBCOMMAND ...\n"
      "\n"
      "Per-queue settings: limits that leases of a queue obey, and the\n"
      "defaults of the tasks enqueued into it.\n"
      "\n"
      "Subcommands:\n"
      "  set QUEUE [OPTIONS]   change settings (the others keep theirs)\n"
      "  show QUEUE            print a queue's settings\n"
      "  list                  print every configured queue\n"
      "\n"
      "`cairn queue SUBCOMMAND --help` tells more.\n";

static const char set_help[]
    = "Usage: cairn queue set QUEUE [OPTIONS]\n"
      "\n"
      "Changes the settings that the options name; the others keep their\n"
      "values. Every server sharing the store obeys them at once.\n"
      "\n"
      "Limits (0 or none: no limit):\n"
      "  --pause                  leases take nothing (enqueues go on)\n"
      "  --resume                 undo --pause\n"
      "  --max-active N           ACTIVE tasks at most; more leases wait\n"
      "  --rate N/INTERVAL        tasks leased per interval, as 100/1m,\n"
      "                           5/s or 10/500ms; none removes it\n"
      "  --burst N                tokens the rate's bucket holds (default\n"
      "                           N of --rate); with --rate\n"
      "Defaults of tasks enqueued without their own (0: the server's):\n"
      "  --max-attempts N\n"
      "  --heartbeat-timeout DUR\n"
      "  --start-to-close DUR\n"
      "  --retry-initial DUR      backoff after the first failure\n"
      "  --retry-multiplier X     backoff growth per attempt\n"
      "  --retry-max DUR          longest backoff\n"
      "Other:\n"
      "  --create                 configure a queue that has no tasks yet\n"
      "  --json                   print the settings after the change\n"
      "\n"
      "Example:\n"
      "  cairn queue set emails --max-active 5 --rate 100/1m\n";

static const char show_help[]
    = "Usage: cairn queue show QUEUE [--json]\n"
      "\n"
      "Prints the settings of QUEUE (zero: none, or the server's "
      "default).\n";

static const char list_help[]
    = "Usage: cairn queue list [--json]\n"
      "\n"
      "Prints the limits of every configured queue.\n";

/* parse_count reads a count from 0 to UINT32_MAX; the server checks the
 * range of each setting. */
static bool
parse_count(
    struct cli_state *cli, const char *flag, const char *text, uint32_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	if (!isdigit((unsigned char) text[0])
	    || (v = strtoull(text, &end, 10), errno != 0) || *end != 0
	    || v > UINT32_MAX) {
		cli->status
		    = cli_usage(cli, "%s: '%s' is not a count from 0 to %u",
		        flag, text, UINT32_MAX);
		return (false);
	}
	*out = (uint32_t) v;
	return (true);
}

/* parse_rate reads N/INTERVAL (INTERVAL a duration, or a unit alone: s,
 * m, h, d, ms), or "none" / "0". */
static bool
parse_rate(struct cli_state *cli, const char *text, cairn_queue_settings *s)
{
	char count[16], dur[32];
	const char *slash = strchr(text, '/');

	if (strcmp(text, "none") == 0 || strcmp(text, "0") == 0) {
		s->rate_count = 0;
		s->rate_interval_ms = 0;
		return (true);
	}
	if (slash == NULL || slash == text
	    || (size_t) (slash - text) >= sizeof(count)
	    || strlen(slash + 1) + 2 > sizeof(dur)) {
		goto bad;
	}
	snprintf(count, sizeof(count), "%.*s", (int) (slash - text), text);
	snprintf(dur, sizeof(dur), "%s%s",
	    isdigit((unsigned char) slash[1]) ? "" : "1", slash + 1);
	if (!parse_count(cli, "--rate", count, &s->rate_count)) {
		return (false);
	}
	if (s->rate_count == 0
	    || !cairn_parse_duration(dur, &s->rate_interval_ms)
	    || s->rate_interval_ms <= 0) {
		goto bad;
	}
	return (true);
bad:
	cli->status = cli_usage(cli,
	    "--rate: '%s' is not N/INTERVAL with N > 0 (100/1m, 5/s, "
	    "10/500ms) or none",
	    text);
	return (false);
}

void
fmt_limits(const cairn_queue_settings *q, char *buf, size_t len)
{
	char d[32];
	size_t at = 0;

	buf[0] = 0;
	if (q == NULL) {
		snprintf(buf, len, "-");
		return;
	}
	if (q->paused) {
		at += (size_t) snprintf(buf + at, len - at, "paused ");
	}
	if (q->max_active > 0 && at < len) {
		at += (size_t) snprintf(buf + at, len - at,
		    "max_active=%" PRIu32 " ", q->max_active);
	}
	if (q->rate_count > 0 && at < len) {
		fmt_duration(q->rate_interval_ms, d, sizeof(d));
		at += (size_t) snprintf(buf + at, len - at,
		    "rate=%" PRIu32 "/%s burst=%" PRIu32 " ", q->rate_count, d,
		    q->rate_burst > 0 ? q->rate_burst : q->rate_count);
	}
	if (at == 0) {
		snprintf(buf, len, "-");
	} else if (at <= len) {
		buf[at - 1] = 0; /* the last space */
	}
}

void
json_queue_settings(struct json *j, const cairn_queue_settings *q)
{
	json_begin_object(j);
	json_kv_string(j, "queue", q->queue);
	json_kv_bool(j, "paused", q->paused);
	json_kv_uint(j, "max_active", q->max_active);
	json_key(j, "rate");
	json_begin_object(j);
	json_kv_uint(j, "count", q->rate_count);
	json_kv_int(j, "interval_ms", q->rate_interval_ms);
	json_kv_uint(j, "burst", q->rate_burst);
	json_end_object(j);
	json_kv_uint(j, "max_attempts", q->max_attempts);
	json_key(j, "retry");
	json_begin_object(j);
	json_kv_int(j, "initial_backoff_ms", q->retry_initial_backoff_ms);
	json_key(j, "multiplier");
	json_double(j, q->retry_multiplier);
	json_kv_int(j, "max_backoff_ms", q->retry_max_backoff_ms);
	json_end_object(j);
	json_kv_int(j, "heartbeat_timeout_ms", q->heartbeat_timeout_ms);
	json_kv_int(
	    j, "start_to_close_timeout_ms", q->start_to_close_timeout_ms);
	json_kv_int(j, "updated_at_ms", q->updated_at_ms);
	json_end_object(j);
}

static void
line_ms(const char *key, int64_t ms)
{
	char d[32];

	fmt_duration(ms, d, sizeof(d));
	line(key, ms == 0 ? "default" : d);
}

static void
print_settings(const cairn_queue_settings *q)
{
	char v[64];

	line("queue", q->queue);
	line("paused", q->paused ? "yes" : "no");
	snprintf(v, sizeof(v), "%" PRIu32, q->max_active);
	line("max_active", q->max_active > 0 ? v : "none");
	if (q->rate_count > 0) {
		char d[32];
		fmt_duration(q->rate_interval_ms, d, sizeof(d));
		snprintf(v, sizeof(v), "%" PRIu32 "/%s, burst %" PRIu32,
		    q->rate_count, d,
		    q->rate_burst > 0 ? q->rate_burst : q->rate_count);
	}
	line("rate", q->rate_count > 0 ? v : "none");
	snprintf(v, sizeof(v), "%" PRIu32, q->max_attempts);
	line("max_attempts", q->max_attempts > 0 ? v : "default");
	line_ms("heartbeat_timeout", q->heartbeat_timeout_ms);
	line_ms("start_to_close", q->start_to_close_timeout_ms);
	line_ms("retry_initial", q->retry_initial_backoff_ms);
	snprintf(v, sizeof(v), "%g", q->retry_multiplier);
	line("retry_multiplier", q->retry_multiplier != 0 ? v : "default");
	line_ms("retry_max", q->retry_max_backoff_ms);
	if (q->updated_at_ms != 0) {
		line_time("updated", q->updated_at_ms);
	}
}

static int
show_one(struct cli_state *cli, const cairn_queue_settings *q)
{
	if (cli->json) {
		struct json j;
		json_init(&j, stdout);
		json_queue_settings(&j, q);
		json_end(&j);
	} else {
		print_settings(q);
	}
	return (EXIT_OK);
}

/* The options of set, as given (NULL: not given). */
struct set_args {
	bool pause, resume, create;
	const char *max_active, *rate, *burst, *max_attempts, *heartbeat, *stc,
	    *retry_initial, *retry_mult, *retry_max;
};

/* read_set turns the options into s and its fields; false: exit with
 * cli->status. */
static bool
read_set(struct cli_state *cli, const struct set_args *a,
    cairn_queue_settings *s, unsigned *fields)
{
	char *end;

	if (a->pause && a->resume) {
		cli->status = cli_usage(cli, "--pause and --resume together");
		return (false);
	}
	if (a->pause || a->resume) {
		s->paused = a->pause;
		*fields |= CAIRN_QUEUE_PAUSED;
	}
	if (a->max_active != NULL) {
		*fields |= CAIRN_QUEUE_MAX_ACTIVE;
		if (strcmp(a->max_active, "none") != 0
		    && !parse_count(
		        cli, "--max-active", a->max_active, &s->max_active)) {
			return (false);
		}
	}
	if (a->burst != NULL && a->rate == NULL) {
		cli->status = cli_usage(cli, "--burst goes with --rate");
		return (false);
	}
	if (a->rate != NULL) {
		*fields |= CAIRN_QUEUE_RATE;
		if (!parse_rate(cli, a->rate, s)
		    || (a->burst != NULL
		        && !parse_count(
		            cli, "--burst", a->burst, &s->rate_burst))) {
			return (false);
		}
	}
	if (a->max_attempts != NULL) {
		*fields |= CAIRN_QUEUE_MAX_ATTEMPTS;
		if (!parse_count(cli, "--max-attempts", a->max_attempts,
		        &s->max_attempts)) {
			return (false);
		}
	}
	if (a->heartbeat != NULL) {
		*fields |= CAIRN_QUEUE_HEARTBEAT_TIMEOUT;
		if (!arg_duration(cli, "--heartbeat-timeout", a->heartbeat,
		        &s->heartbeat_timeout_ms)) {
			return (false);
		}
	}
	if (a->stc != NULL) {
		*fields |= CAIRN_QUEUE_START_TO_CLOSE_TIMEOUT;
		if (!arg_duration(cli, "--start-to-close", a->stc,
		        &s->start_to_close_timeout_ms)) {
			return (false);
		}
	}
	if (a->retry_initial != NULL || a->retry_mult != NULL
	    || a->retry_max != NULL) {
		*fields |= CAIRN_QUEUE_RETRY;
	}
	if (a->retry_initial != NULL
	    && !arg_duration(cli, "--retry-initial", a->retry_initial,
	        &s->retry_initial_backoff_ms)) {
		return (false);
	}
	if (a->retry_max != NULL
	    && !arg_duration(
	        cli, "--retry-max", a->retry_max, &s->retry_max_backoff_ms)) {
		return (false);
	}
	if (a->retry_mult != NULL) {
		errno = 0;
		s->retry_multiplier = strtod(a->retry_mult, &end);
		if (errno != 0 || *end != 0 || end == a->retry_mult
		    || !isfinite(s->retry_multiplier)) {
			cli->status = cli_usage(cli,
			    "--retry-multiplier: '%s' is not a number",
			    a->retry_mult);
			return (false);
		}
	}
	if (*fields == 0) {
		cli->status = cli_usage(cli, "nothing to set (see --help)");
		return (false);
	}
	return (true);
}

/* keep_retry fills the parts of the retry policy that were not given with
 * the queue's current ones: the three are one field on the wire. */
static int
keep_retry(
    struct cli_state *cli, const struct set_args *a, cairn_queue_settings *s)
{
	cairn_queue_settings *cur = NULL;
	int rv = cairn_queue_get(cli->client, s->queue, &cur);

	if (rv == CAIRN_NOT_FOUND) {
		return (CAIRN_OK);
	}
	if (rv != CAIRN_OK) {
		return (rv);
	}
	if (a->retry_initial == NULL) {
		s->retry_initial_backoff_ms = cur->retry_initial_backoff_ms;
	}
	if (a->retry_mult == NULL) {
		s->retry_multiplier = cur->retry_multiplier;
	}
	if (a->retry_max == NULL) {
		s->retry_max_backoff_ms = cur->retry_max_backoff_ms;
	}
	cairn_queue_settings_free(cur, 1);
	return (CAIRN_OK);
}

static int
set_run(struct cli_state *cli, int argc, char **argv)
{
	struct set_args a = { 0 };
	const struct cli_flag flags[] = {
		{ "pause", .set = &a.pause },
		{ "resume", .set = &a.resume },
		{ "create", .set = &a.create },
		{ "max-active", .text = &a.max_active },
		{ "rate", .text = &a.rate },
		{ "burst", .text = &a.burst },
		{ "max-attempts", .text = &a.max_attempts },
		{ "heartbeat-timeout", .text = &a.heartbeat },
		{ "start-to-close", .text = &a.stc },
		{ "retry-initial", .text = &a.retry_initial },
		{ "retry-multiplier", .text = &a.retry_mult },
		{ "retry-max", .text = &a.retry_max },
		{ "json", .set = &cli->json },
		{ NULL },
	};
	cairn_queue_settings s = { 0 }, *out = NULL;
	unsigned fields = 0;
	int rv;

	if (!cli_parse(cli, argc, argv, flags)
	    || !cli_positional(cli, 1, 1, "QUEUE")
	    || !read_set(cli, &a, &s, &fields) || !cli_connect(cli)) {
		return (cli->status);
	}
	s.queue = cli->pos[0];
	if ((fields & CAIRN_QUEUE_RETRY)
	    && (rv = keep_retry(cli, &a, &s)) != CAIRN_OK) {
		return (cli_call_failed(cli, rv));
	}
	if (a.create) {
		fields |= CAIRN_QUEUE_CREATE;
	}
	if ((rv = cairn_queue_set(cli->client, &s, fields, &out)) != 0) {
		return (cli_call_failed(cli, rv));
	}
	rv = show_one(cli, out);
	cairn_queue_settings_free(out, 1);
	return (rv);
}

static int
show_run(struct cli_state *cli, int argc, char **argv)
{
	cairn_queue_settings *q;
	int rv;

	if (!cli_parse(cli, argc, argv, NULL)
	    || !cli_positional(cli, 1, 1, "QUEUE") || !cli_connect(cli)) {
		return (cli->status);
	}
	if ((rv = cairn_queue_get(cli->client, cli->pos[0], &q)) != 0) {
		return (cli_call_failed(cli, rv));
	}
	rv = show_one(cli, q);
	cairn_queue_settings_free(q, 1);
	return (rv);
}

static int
list_run(struct cli_state *cli, int argc, char **argv)
{
	cairn_queue_settings *q;
	char limits[160];
	size_t n;
	int rv, w = 5;

	if (!cli_parse(cli, argc, argv, NULL) || !cli_positional(cli, 0, 0, "")
	    || !cli_connect(cli)) {
		return (cli->status);
	}
	if ((rv = cairn_queue_list(cli->client, &q, &n)) != CAIRN_OK) {
		return (cli_call_failed(cli, rv));
	}
	if (cli->json) {
		struct json j;
		json_begin_doc(&j, stdout);
		json_key(&j, "queues");
		json_begin_array(&j);
		for (size_t i = 0; i < n; i++) {
			json_queue_settings(&j, &q[i]);
		}
		json_end_array(&j);
		json_end_doc(&j);
	} else {
		for (size_t i = 0; i < n; i++) {
			int len = (int) strlen(q[i].queue);
			w = len > w ? len : w;
		}
		printf("%-*s  %s\n", w, "QUEUE", "LIMITS");
		for (size_t i = 0; i < n; i++) {
			fmt_limits(&q[i], limits, sizeof(limits));
			printf("%-*s  %s\n", w, q[i].queue, limits);
		}
	}
	cairn_queue_settings_free(q, n);
	return (EXIT_OK);
}

static const struct cli_cmd subcommands[] = {
	{ "queue set", "change a queue's settings", set_help, set_run },
	{ "queue show", "print a queue's settings", show_help, show_run },
	{ "queue list", "print every configured queue", list_help, list_run },
};
#define NSUB (sizeof(subcommands) / sizeof(subcommands[0]))

static int
queue_run(struct cli_state *cli, int argc, char **argv)
{
	char name[64];

	if (argc < 2) {
		return (cli_usage(cli, "missing SUBCOMMAND"));
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(queue_help, stdout);
		return (EXIT_OK);
	}
	snprintf(name, sizeof(name), "queue %s", argv[1]);
	for (size_t i = 0; i < NSUB; i++) {
		if (strcmp(subcommands[i].name, name) == 0) {
			/* Messages then name the subcommand and its help. */
			cli->cmd = &subcommands[i];
			return (cli->cmd->run(cli, argc - 1, argv + 1));
		}
	}
	return (cli_usage(cli, "unknown subcommand '%s'", argv[1]));
}

const struct cli_cmd cli_cmd_queue
    = { "queue", "per-queue limits and defaults (set, show, list)", queue_help,
	      queue_run };
