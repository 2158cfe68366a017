/*
 * cmd_schedule.c - `cairn schedule`: add, list, pause, resume and delete
 * cron schedules, each tick of which enqueues one task.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn_json.h"
#include "cli.h"

static const char add_help[]
    = "Usage: cairn schedule add NAME --cron EXPR --queue Q [OPTIONS]\n"
      "\n"
      "Adds a schedule: each tick of EXPR enqueues one task on Q, with the\n"
      "idempotency key schedule:NAME:<tick in Unix seconds>, exactly once\n"
      "however many servers share the database and across restarts.\n"
      "\n"
      "EXPR is 5 fields, minute hour day-of-month month day-of-week "
      "(lists\n"
      "1,15, ranges 1-5, steps */10, names jan and mon; a day matches "
      "either\n"
      "day field when both are given), or @hourly, @daily, @weekly, "
      "@monthly,\n"
      "@yearly, or '@every DUR' (whole seconds: 30s, 5m, 1h30m).\n"
      "\n"
      "Options:\n"
      "  --cron EXPR          when it fires (required)\n"
      "  --queue Q            where its tasks go (required)\n"
      "  --tz ZONE            time zone of EXPR, e.g. Europe/Paris "
      "(default UTC)\n"
      "  --payload TEXT       each task's payload\n"
      "  --missed POLICY      ticks missed while no server ran: fire-once\n"
      "                       (default: the latest fires once) or skip\n"
      "  --priority N, --max-attempts N, --heartbeat-timeout DUR\n"
      "                       as for 'cairn enqueue'\n"
      "  --paused             add it paused\n"
      "  --replace            replace a schedule of that name\n"
      "  --create-queue       allow a queue that has no tasks and no "
      "settings\n"
      "                       yet (else refused: a typing error?)\n"
      "  --json               print the schedule as JSON\n"
      "\n"
      "Example:\n"
      "  cairn schedule add report --cron '0 7 * * mon-fri' --tz "
      "Europe/Paris \\\n"
      "      --queue reports --payload daily\n";

static void
print_schedule(struct cli_state *cli, struct json *j, const cairn_schedule *s)
{
	char next[64], last[64];

	if (cli->json) {
		json_begin_object(j);
		json_kv_string(j, "name", s->name);
		json_kv_string(j, "cron", s->cron);
		json_kv_string(j, "time_zone", s->time_zone);
		json_kv_string(j, "queue", s->queue);
		json_kv_bytes(j, "payload", s->payload, s->payload_len);
		json_kv_string(
		    j, "missed", s->skip_missed ? "skip" : "fire-once");
		json_kv_bool(j, "paused", s->paused);
		json_kv_int(j, "next_fire_at_ms", s->next_fire_at_ms);
		json_kv_int(j, "last_fire_at_ms", s->last_fire_at_ms);
		json_kv_uint(j, "last_task_id", s->last_task_id);
		json_end_object(j);
		return;
	}
	fmt_time(s->next_fire_at_ms, next, sizeof(next));
	if (s->last_fire_at_ms > 0) {
		fmt_time(s->last_fire_at_ms, last, sizeof(last));
	} else {
		snprintf(last, sizeof(last), "-");
	}
	printf("%-20s %-7s %-20s %-14s %-12s next %s  last %s (task %" PRIu64
	       ")\n",
	    s->name, s->paused ? "paused" : "active", s->cron,
	    s->time_zone[0] != 0 ? s->time_zone : "UTC", s->queue,
	    s->paused || s->next_fire_at_ms == 0 ? "-" : next, last,
	    s->last_task_id);
}

static int
print_one(struct cli_state *cli, cairn_schedule *s)
{
	struct json j;

	json_init(&j, stdout);
	print_schedule(cli, &j, s);
	if (cli->json) {
		json_end(&j);
	}
	cairn_schedule_free(s);
	return (EXIT_OK);
}

static int
add_run(struct cli_state *cli, int argc, char **argv)
{
	cairn_schedule_spec spec = { 0 };
	const char *missed = NULL, *payload = NULL;
	const struct cli_flag flags[] = {
		{ "cron", .text = &spec.cron },
		{ "queue", .text = &spec.task.queue },
		{ "tz", .text = &spec.time_zone },
		{ "payload", .text = &payload },
		{ "missed", .text = &missed },
		{ "priority", .i32 = &spec.task.priority },
		{ "max-attempts", .u32 = &spec.task.max_attempts },
		{ "heartbeat-timeout", .ms = &spec.task.heartbeat_timeout_ms },
		{ "paused", .set = &spec.paused },
		{ "replace", .set = &spec.replace },
		{ "create-queue", .set = &spec.create_queue },
		{ "json", .set = &cli->json },
		{ NULL },
	};
	cairn_schedule *s;
	int rv;

	if (!cli_parse(cli, argc, argv, flags)
	    || !cli_positional(cli, 1, 1, "NAME")) {
		return (cli->status);
	}
	if (spec.cron == NULL || spec.task.queue == NULL) {
		return (cli_usage(cli, "--cron and --queue are required"));
	}
	if (missed != NULL && strcmp(missed, "fire-once") != 0
	    && strcmp(missed, "skip") != 0) {
		return (cli_usage(
		    cli, "--missed: fire-once or skip, not '%s'", missed));
	}
	spec.skip_missed = missed != NULL && strcmp(missed, "skip") == 0;
	spec.name = cli->pos[0];
	if (payload != NULL) {
		spec.task.payload = payload;
		spec.task.payload_len = strlen(payload);
	}
	if (!cli_connect(cli)) {
		return (cli->status);
	}
	if ((rv = cairn_schedule_add(cli->client, &spec, &s)) != CAIRN_OK) {
		return (cli_call_failed(cli, rv));
	}
	return (print_one(cli, s));
}

static const char list_help[]
    = "Usage: cairn schedule list [--json]\n"
      "\n"
      "Lists the schedules: name, state, cron, zone, queue, next tick, and\n"
      "the last tick that enqueued a task.\n";

static int
list_run(struct cli_state *cli, int argc, char **argv)
{
	cairn_schedule **v;
	struct json j;
	size_t n;
	int rv;

	if (!cli_parse(cli, argc, argv, NULL) || !cli_positional(cli, 0, 0, "")
	    || !cli_connect(cli)) {
		return (cli->status);
	}
	if ((rv = cairn_schedule_list(cli->client, &v, &n)) != CAIRN_OK) {
		return (cli_call_failed(cli, rv));
	}
	json_init(&j, stdout);
	if (cli->json) {
		json_begin_array(&j);
	}
	for (size_t i = 0; i < n; i++) {
		print_schedule(cli, &j, v[i]);
	}
	if (cli->json) {
		json_end_array(&j);
		json_end(&j);
	}
	cairn_schedules_free(v, n);
	return (EXIT_OK);
}

static const char pause_help[]
    = "Usage: cairn schedule pause NAME [--json]\n"
      "       cairn schedule resume NAME [--json]\n"
      "\n"
      "pause: no tick fires until resume. resume: the schedule waits for\n"
      "its next tick (the ticks of the pause are not made up).\n";

static int
pause_or_resume(struct cli_state *cli, int argc, char **argv, bool paused)
{
	cairn_schedule *s;
	int rv;

	if (!cli_parse(cli, argc, argv, NULL)
	    || !cli_positional(cli, 1, 1, "NAME") || !cli_connect(cli)) {
		return (cli->status);
	}
	rv = cairn_schedule_pause(cli->client, cli->pos[0], paused, &s);
	return (rv != CAIRN_OK ? cli_call_failed(cli, rv) : print_one(cli, s));
}

static int
pause_run(struct cli_state *cli, int argc, char **argv)
{
	return (pause_or_resume(cli, argc, argv, true));
}

static int
resume_run(struct cli_state *cli, int argc, char **argv)
{
	return (pause_or_resume(cli, argc, argv, false));
}

static const char delete_help[]
    = "Usage: cairn schedule delete NAME\n"
      "\n"
      "Deletes a schedule; the tasks it enqueued stay.\n";

static int
delete_run(struct cli_state *cli, int argc, char **argv)
{
	int rv;

	if (!cli_parse(cli, argc, argv, NULL)
	    || !cli_positional(cli, 1, 1, "NAME") || !cli_connect(cli)) {
		return (cli->status);
	}
	if ((rv = cairn_schedule_delete(cli->client, cli->pos[0]))
	    != CAIRN_OK) {
		return (cli_call_failed(cli, rv));
	}
	if (!cli->json) {
		puts("deleted");
	}
	return (EXIT_OK);
}

static const struct cli_cmd subcommands[] = {
	{ "schedule add", "add a schedule", add_help, add_run },
	{ "schedule list", "list the schedules", list_help, list_run },
	{ "schedule pause", "pause a schedule", pause_help, pause_run },
	{ "schedule resume", "resume a schedule", pause_help, resume_run },
	{ "schedule delete", "delete a schedule", delete_help, delete_run },
};
#define NSUB (sizeof(subcommands) / sizeof(subcommands[0]))

static const char schedule_help[]
    = "Usage: cairn schedule SUBCOMMAND [ARGS...]\n"
      "\n"
      "Cron schedules: each tick enqueues one task.\n"
      "\n"
      "Subcommands:\n"
      "  add      add a schedule (--cron, --tz, --queue, --payload, "
      "--missed)\n"
      "  list     list the schedules\n"
      "  pause    pause one\n"
      "  resume   resume one\n"
      "  delete   delete one\n"
      "\n"
      "'cairn schedule SUBCOMMAND --help' describes one.\n";

static int
schedule_run(struct cli_state *cli, int argc, char **argv)
{
	char name[64];

	if (argc < 2) {
		return (cli_usage(cli, "missing SUBCOMMAND"));
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(schedule_help, stdout);
		return (EXIT_OK);
	}
	snprintf(name, sizeof(name), "schedule %s", argv[1]);
	for (size_t i = 0; i < NSUB; i++) {
		if (strcmp(subcommands[i].name, name) == 0) {
			cli->cmd = &subcommands[i];
			return (cli->cmd->run(cli, argc - 1, argv + 1));
		}
	}
	return (cli_usage(cli, "unknown subcommand '%s'", argv[1]));
}

const struct cli_cmd cli_cmd_schedule
    = { "schedule", "add, list, pause, resume and delete cron schedules",
	      schedule_help, schedule_run };
