/*
 * cmd_worker.c - what a worker does with a leased task: heartbeat,
 * complete and fail.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cairn_json.h"

/* ---- heartbeat, complete, fail ----------------------------------------- */

/* worker_args parses the command line of one of the three commands, which
 * share ID and --token (the variable of flags at token). */
static bool
worker_args(struct cli_state *cli, int argc, char **argv,
    const struct cli_flag *flags, const char *const *token, uint64_t *id)
{
	if (!cli_parse(cli, argc, argv, flags) || !cli_task_id(cli, id)) {
		return (false);
	}
	if (*token == NULL) {
		cli->status = cli_usage(cli,
		    "--token is required: the lease token printed by "
		    "'cairn lease'");
		return (false);
	}
	return (true);
}

static const char heartbeat_help[]
    = "Usage: cairn heartbeat ID --token T [--details TEXT]\n"
      "\n"
      "Tells the server that the worker holding task ID with lease token T\n"
      "(printed by 'cairn lease') is alive, and prints the new deadline.\n"
      "Prints \"cancel requested\" when the task was canceled meanwhile: the\n"
      "worker should stop and fail it. A lost lease gives "
      "FAILED_PRECONDITION.\n"
      "\n"
      "Options:\n"
      "  --token T       the lease token (required)\n"
      "  --details TEXT  progress to keep; the next attempt sees it\n"
      "  --json          print {\"cancel_requested\": ..., \"deadline_ms\": "
      "...}\n";

static int
heartbeat_run(struct cli_state *cli, int argc, char **argv)
{
	const char *token = NULL, *details = NULL;
	const struct cli_flag flags[] = {
		{ "token", .text = &token },
		{ "details", .text = &details },
		{ "json", .set = &cli->json },
		{ NULL },
	};
	bool cancel;
	int64_t deadline;
	uint64_t id;
	char when[64];
	int rv;

	if (!worker_args(cli, argc, argv, flags, &token, &id)
	    || !cli_connect(cli)) {
		return (cli->status);
	}
	rv = cairn_heartbeat(cli->client, id, token, details,
	    details != NULL ? strlen(details) : 0, &cancel, &deadline);
	if (rv != CAIRN_OK) {
		return (cli_call_failed(cli, rv));
	}
	if (cli->json) {
		struct json j;
		json_begin_doc(&j, stdout);
		json_kv_bool(&j, "cancel_requested", cancel);
		json_kv_int(&j, "deadline_ms", deadline);
		json_end_doc(&j);
		return (EXIT_OK);
	}
	fmt_time(deadline, when, sizeof(when));
	printf("deadline: %s\n", when);
	if (cancel) {
		puts("cancel requested");
	}
	return (EXIT_OK);
}

const struct cli_cmd cli_cmd_heartbeat
    = { "heartbeat", "extend a lease, and learn of a cancel", heartbeat_help,
	      heartbeat_run };

static const char complete_help[]
    = "Usage: cairn complete ID --token T [--result TEXT | --result-file "
      "FILE]\n"
      "\n"
      "Marks task ID succeeded, with an optional result. T is the lease\n"
      "token printed by 'cairn lease'. Repeating a complete that took effect\n"
      "succeeds again; a lost lease gives FAILED_PRECONDITION.\n"
      "\n"
      "Options:\n"
      "  --token T           the lease token (required)\n"
      "  --result TEXT       the result\n"
      "  --result-file FILE  the contents of FILE as the result (\"-\": "
      "stdin)\n"
      "  --json              print {\"id\": N, \"state\": \"succeeded\"}\n";

static int
complete_run(struct cli_state *cli, int argc, char **argv)
{
	const char *token = NULL, *text = NULL, *file = NULL;
	const struct cli_flag flags[] = {
		{ "token", .text = &token },
		{ "result", .text = &text },
		{ "result-file", .text = &file },
		{ "json", .set = &cli->json },
		{ NULL },
	};
	uint8_t *buf = NULL;
	size_t len = 0;
	uint64_t id;
	int rv;

	if (!worker_args(cli, argc, argv, flags, &token, &id)) {
		return (cli->status);
	}
	if (text != NULL && file != NULL) {
		return (cli_usage(
		    cli, "give the result once: --result or --result-file"));
	}
	if (file != NULL && !read_file(file, &buf, &len)) {
		return (EXIT_CALL);
	}
	if (text != NULL) {
		len = strlen(text);
	}
	if (cli_connect(cli)) {
		rv = cairn_complete(cli->client, id, token,
		    buf != NULL ? (const void *) buf : text, len);
		rv = rv == CAIRN_OK ? EXIT_OK : cli_call_failed(cli, rv);
	} else {
		rv = cli->status;
	}
	free(buf);
	if (rv != EXIT_OK) {
		return (rv);
	}
	if (cli->json) {
		struct json j;
		json_begin_doc(&j, stdout);
		json_kv_uint(&j, "id", id);
		json_kv_string(&j, "state", cairn_state_name(CAIRN_SUCCEEDED));
		json_end_doc(&j);
	} else {
		puts(cairn_state_name(CAIRN_SUCCEEDED));
	}
	return (EXIT_OK);
}

const struct cli_cmd cli_cmd_complete = { "complete",
	"mark a leased task succeeded", complete_help, complete_run };

static const char fail_help[]
    = "Usage: cairn fail ID --token T [--error TEXT] [--no-retry]\n"
      "                  [--retry-delay DUR]\n"
      "\n"
      "Fails the current attempt of task ID (T: the lease token printed by\n"
      "'cairn lease') and prints the task's new state: pending, with the "
      "time\n"
      "of the next attempt, or failed when the attempts are used up or with\n"
      "--no-retry.\n"
      "\n"
      "Options:\n"
      "  --token T          the lease token (required)\n"
      "  --error TEXT       what went wrong, kept as the task's last_error\n"
      "  --no-retry         fail the task for good\n"
      "  --retry-delay DUR  next attempt after DUR instead of the backoff\n"
      "  --json             print {\"state\": ..., \"run_at_ms\": ...}\n";

static int
fail_run(struct cli_state *cli, int argc, char **argv)
{
	const char *token = NULL, *error = NULL;
	bool no_retry = false;
	int64_t delay = 0, run_at;
	const struct cli_flag flags[] = {
		{ "token", .text = &token },
		{ "error", .text = &error },
		{ "no-retry", .set = &no_retry },
		{ "retry-delay", .ms = &delay },
		{ "json", .set = &cli->json },
		{ NULL },
	};
	cairn_state state;
	uint64_t id;
	char when[64];
	int rv;

	if (!worker_args(cli, argc, argv, flags, &token, &id)
	    || !cli_connect(cli)) {
		return (cli->status);
	}
	rv = cairn_fail(
	    cli->client, id, token, error, !no_retry, delay, &state, &run_at);
	if (rv != CAIRN_OK) {
		return (cli_call_failed(cli, rv));
	}
	if (cli->json) {
		struct json j;
		json_begin_doc(&j, stdout);
		json_kv_string(&j, "state", cairn_state_name(state));
		json_kv_int(&j, "run_at_ms", run_at);
		json_end_doc(&j);
	} else if (state == CAIRN_PENDING) {
		fmt_time(run_at, when, sizeof(when));
		printf("%s (next attempt at %s)\n", cairn_state_name(state),
		    when);
	} else {
		puts(cairn_state_name(state));
	}
	return (EXIT_OK);
}

const struct cli_cmd cli_cmd_fail = { "fail",
	"fail the current attempt of a leased task", fail_help, fail_run };

static const char release_help[]
    = "Usage: cairn release ID --token T [--reason TEXT] [--count-attempt]\n"
      "\n"
      "Gives the lease of task ID back without running it: the task is\n"
      "pending and due at once, and the attempt does not count (with\n"
      "--count-attempt it is a retryable failure under the task's retry\n"
      "policy). Prints the task's new state.\n"
      "\n"
      "Options:\n"
      "  --token T          the lease token (required)\n"
      "  --reason TEXT      kept in the task's history\n"
      "  --count-attempt    count the attempt, as a failure\n"
      "  --json             print {\"state\": ...}\n";

static int
release_run(struct cli_state *cli, int argc, char **argv)
{
	const char *token = NULL, *reason = NULL;
	bool count = false;
	const struct cli_flag flags[] = {
		{ "token", .text = &token },
		{ "reason", .text = &reason },
		{ "count-attempt", .set = &count },
		{ "json", .set = &cli->json },
		{ NULL },
	};
	cairn_state state;
	uint64_t id;
	int rv;

	if (!worker_args(cli, argc, argv, flags, &token, &id)
	    || !cli_connect(cli)) {
		return (cli->status);
	}
	rv = cairn_release(cli->client, id, token, reason, count, &state);
	if (rv != CAIRN_OK) {
		return (cli_call_failed(cli, rv));
	}
	if (cli->json) {
		struct json j;
		json_begin_doc(&j, stdout);
		json_kv_string(&j, "state", cairn_state_name(state));
		json_end_doc(&j);
	} else {
		puts(cairn_state_name(state));
	}
	return (EXIT_OK);
}

const struct cli_cmd cli_cmd_release
    = { "release", "give a lease back without running the task", release_help,
	      release_run };
