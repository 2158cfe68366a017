/*
 * cmd_inspect.c - commands that look at tasks: list, stats, history and
 * await.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cairn_json.h"

/* ---- list ------------------------------------------------------------- */

static const char list_help[]
    = "Usage: cairn list QUEUE [--state S] [--limit N] [--after ID] [--all]\n"
      "\n"
      "Lists the tasks of QUEUE in id order, one page at a time.\n"
      "\n"
      "Options:\n"
      "  --state S   only tasks in state S: pending, active, succeeded,\n"
      "              failed, canceled (default: any)\n"
      "  --limit N   tasks per page (server default 100)\n"
      "  --after ID  start after task ID (the page token printed at the end\n"
      "              of a page)\n"
      "  --all       follow the pages to the end\n"
      "  --json      print {\"tasks\": [...], \"next_after_id\": N}\n";

static int
list_run(struct cli_state *cli, int argc, char **argv)
{
	cairn_state state = CAIRN_STATE_ANY;
	uint32_t limit = 0;
	uint64_t after = 0, next;
	bool all = false, first = true;
	const struct cli_flag flags[] = {
		{ "state", .state = &state },
		{ "limit", .u32 = &limit },
		{ "after", .u64 = &after, .max = UINT64_MAX },
		{ "all", .set = &all },
		{ "json", .set = &cli->json },
		{ NULL },
	};
	struct json j;
	int rv;

	if (!cli_parse(cli, argc, argv, flags)
	    || !cli_positional(cli, 1, 1, "QUEUE") || !cli_connect(cli)) {
		return (cli->status);
	}
	/* Pages are printed as they come, so --all needs no memory for the
	 * whole queue; a failure midway still ends with one error line. */
	json_init(&j, stdout);
	do {
		cairn_task **tasks;
		size_t n;

		rv = cairn_list(cli->client, cli->pos[0], state, limit, after,
		    &tasks, &n, &next);
		if (rv != CAIRN_OK) {
			return (cli_call_failed(cli, rv));
		}
		if (cli->json && first) {
			json_begin_object(&j);
			json_key(&j, "tasks");
			json_begin_array(&j);
		}
		for (size_t i = 0; cli->json && i < n; i++) {
			json_task(&j, tasks[i]);
		}
		if (!cli->json) {
			print_task_table(tasks, n, first);
		}
		cairn_tasks_free(tasks, n);
		first = false;
		after = next;
	} while (all && next != 0);

	if (cli->json) {
		json_end_array(&j);
		json_kv_uint(&j, "next_after_id", next);
		json_end_doc(&j);
	} else if (next != 0) {
		printf("(more: cairn list %s --after %" PRIu64 ")\n",
		    cli->pos[0], next);
	}
	return (EXIT_OK);
}

const struct cli_cmd cli_cmd_list
    = { "list", "list the tasks of a queue", list_help, list_run };

/* ---- stats, history ----------------------------------------------------- */

static const char stats_help[]
    = "Usage: cairn stats [QUEUE]\n"
      "\n"
      "Prints the number of tasks per state for QUEUE, or for every queue,\n"
      "with how many pending tasks are due, the age of the oldest due one,\n"
      "and the queue's limits (cairn queue set).\n"
      "\n"
      "  --json  print {\"queues\": [{\"queue\": ..., \"pending\": ..., "
      "...}]}\n";

static int
stats_run(struct cli_state *cli, int argc, char **argv)
{
	cairn_queue_stats *s;
	cairn_queue_settings *q = NULL;
	size_t n, nq = 0;
	int rv;

	if (!cli_parse(cli, argc, argv, NULL)
	    || !cli_positional(cli, 0, 1, "QUEUE") || !cli_connect(cli)) {
		return (cli->status);
	}
	rv = cairn_stats(
	    cli->client, cli->npos > 0 ? cli->pos[0] : NULL, &s, &n);
	if (rv != CAIRN_OK) {
		return (cli_call_failed(cli, rv));
	}
	/* The limits beside the counts; a server without per-queue settings
	 * shows none. */
	rv = cairn_queue_list(cli->client, &q, &nq);
	if (rv != CAIRN_OK && rv != CAIRN_UNIMPLEMENTED) {
		cairn_stats_free(s, n);
		return (cli_call_failed(cli, rv));
	}
	if (cli->json) {
		struct json j;
		json_begin_doc(&j, stdout);
		json_key(&j, "queues");
		json_begin_array(&j);
		for (size_t i = 0; i < n; i++) {
			json_stats(&j, &s[i], q, nq);
		}
		json_end_array(&j);
		json_end_doc(&j);
	} else {
		print_stats_table(s, n, q, nq);
	}
	cairn_stats_free(s, n);
	cairn_queue_settings_free(q, nq);
	return (EXIT_OK);
}

const struct cli_cmd cli_cmd_stats
    = { "stats", "count tasks per queue and state", stats_help, stats_run };

static const char history_help[]
    = "Usage: cairn history ID\n"
      "\n"
      "Prints the events of task ID, oldest first: enqueued, leased,\n"
      "heartbeat, expired, failed, retried, completed, canceled.\n"
      "\n"
      "  --json  print {\"events\": [{\"at_ms\": ..., \"kind\": ..., ...}]}\n";

static int
history_run(struct cli_state *cli, int argc, char **argv)
{
	cairn_event *ev;
	uint64_t id;
	size_t n;
	int rv;

	if (!cli_id_command(cli, argc, argv, NULL, &id)) {
		return (cli->status);
	}
	if ((rv = cairn_history(cli->client, id, &ev, &n)) != CAIRN_OK) {
		return (cli_call_failed(cli, rv));
	}
	if (cli->json) {
		struct json j;
		json_begin_doc(&j, stdout);
		json_key(&j, "events");
		json_begin_array(&j);
		for (size_t i = 0; i < n; i++) {
			json_event(&j, &ev[i]);
		}
		json_end_array(&j);
		json_end_doc(&j);
	} else {
		print_events_table(ev, n);
	}
	cairn_events_free(ev, n);
	return (EXIT_OK);
}

const struct cli_cmd cli_cmd_history
    = { "history", "show what happened to a task", history_help, history_run };

/* ---- await -------------------------------------------------------------- */

static const char await_help[]
    = "Usage: cairn await ID [--wait DUR]\n"
      "\n"
      "Waits until task ID is finished (succeeded, failed or canceled) and\n"
      "prints it. Without --wait it waits as long as it takes.\n"
      "\n"
      "Exit status: 0 succeeded, 3 failed or canceled, 4 not finished when\n"
      "the wait ended, 1 the call failed.\n"
      "\n"
      "Options:\n"
      "  --wait DUR  give up after DUR\n"
      "  --json      print {\"task\": {...}, \"done\": true|false}\n";

/* One long-poll waits at most this long, so that a server's cap on waits
 * and an idle connection never turn a long await into an error. */
#define AWAIT_CHUNK_MS 30000

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static int
await_run(struct cli_state *cli, int argc, char **argv)
{
	int64_t wait = -1, end, chunk;
	const struct cli_flag flags[] = {
		{ "wait", .ms = &wait },
		{ "json", .set = &cli->json },
		{ NULL },
	};
	cairn_task *t = NULL;
	uint64_t id;
	bool done = false;
	int rv;

	if (!cli_id_command(cli, argc, argv, flags, &id)) {
		return (cli->status);
	}
	end = wait >= 0 ? mono_ms() + wait : INT64_MAX;
	for (;;) {
		int64_t left = end - mono_ms();
		chunk = left < AWAIT_CHUNK_MS ? (left > 0 ? left : 0)
		                              : AWAIT_CHUNK_MS;
		rv = cairn_await(cli->client, id, chunk, &t, &done);
		if (rv != CAIRN_OK) {
			return (cli_call_failed(cli, rv));
		}
		if (done || mono_ms() >= end) {
			break;
		}
		cairn_task_free(t);
	}
	if (cli->json) {
		struct json j;
		json_begin_doc(&j, stdout);
		json_key(&j, "task");
		json_task(&j, t);
		json_kv_bool(&j, "done", done);
		json_end_doc(&j);
	} else {
		print_task(t);
	}
	rv = !done
	    ? EXIT_NOT_DONE
	    : (t->state == CAIRN_SUCCEEDED ? EXIT_OK : EXIT_TASK_FAILED);
	cairn_task_free(t);
	return (rv);
}

const struct cli_cmd cli_cmd_await
    = { "await", "wait for a task to finish", await_help, await_run };
