/*
 * cmd_admin.c - commands that steer one task or the server: cancel, retry,
 * get and ping.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cairn_json.h"

static void
show_task(struct cli_state *cli, const cairn_task *t)
{
	if (cli->json) {
		struct json j;
		json_init(&j, stdout);
		json_task(&j, t);
		json_end(&j);
	} else {
		print_task(t);
	}
}

static const char cancel_help[]
    = "Usage: cairn cancel ID\n"
      "\n"
      "Cancels task ID. A pending task is canceled at once; an active one is\n"
      "flagged, its worker learns it on its next heartbeat, and it ends\n"
      "canceled instead of being retried. Prints the state after the call.\n"
      "\n"
      "  --json  print {\"state\": \"canceled\" | \"active\"}\n";

static int
cancel_run(struct cli_state *cli, int argc, char **argv)
{
	cairn_state state;
	uint64_t id;
	int rv;

	if (!cli_id_command(cli, argc, argv, NULL, &id)) {
		return (cli->status);
	}
	if ((rv = cairn_cancel(cli->client, id, &state)) != CAIRN_OK) {
		return (cli_call_failed(cli, rv));
	}
	if (cli->json) {
		struct json j;
		json_begin_doc(&j, stdout);
		json_kv_string(&j, "state", cairn_state_name(state));
		json_end_doc(&j);
	} else if (state == CAIRN_ACTIVE) {
		puts("active (cancel requested: the worker learns it on its "
		     "next heartbeat)");
	} else {
		puts(cairn_state_name(state));
	}
	return (EXIT_OK);
}

const struct cli_cmd cli_cmd_cancel
    = { "cancel", "cancel a task", cancel_help, cancel_run };

static const char retry_help[] = "Usage: cairn retry ID\n"
                                 "\n"
                                 "Puts a failed or canceled task back to "
                                 "pending, with a fresh budget of\n"
                                 "attempts, and prints it.\n"
                                 "\n"
                                 "  --json  print the task as a JSON object\n";

static int
retry_run(struct cli_state *cli, int argc, char **argv)
{
	cairn_task *t;
	uint64_t id;
	int rv;

	if (!cli_id_command(cli, argc, argv, NULL, &id)) {
		return (cli->status);
	}
	if ((rv = cairn_retry(cli->client, id, &t)) != CAIRN_OK) {
		return (cli_call_failed(cli, rv));
	}
	show_task(cli, t);
	cairn_task_free(t);
	return (EXIT_OK);
}

const struct cli_cmd cli_cmd_retry = { "retry",
	"run a failed or canceled task again", retry_help, retry_run };

static const char get_help[]
    = "Usage: cairn get ID\n"
      "\n"
      "Prints task ID: its state, attempts, times, payload, result and last\n"
      "error.\n"
      "\n"
      "  --json  print the task as a JSON object (fields as in cairn.proto;\n"
      "          bytes that are not UTF-8 as <field>_base64)\n";

static int
get_run(struct cli_state *cli, int argc, char **argv)
{
	cairn_task *t;
	uint64_t id;
	int rv;

	if (!cli_id_command(cli, argc, argv, NULL, &id)) {
		return (cli->status);
	}
	if ((rv = cairn_get(cli->client, id, &t)) != CAIRN_OK) {
		return (cli_call_failed(cli, rv));
	}
	show_task(cli, t);
	cairn_task_free(t);
	return (EXIT_OK);
}

const struct cli_cmd cli_cmd_get = { "get", "show a task", get_help, get_run };

/* ---- ping --------------------------------------------------------------- */

static const char ping_help[]
    = "Usage: cairn ping\n"
      "\n"
      "Checks that the server answers, and prints the round-trip time, the\n"
      "server's version and its clock.\n"
      "\n"
      "  --json  print {\"server_time_ms\": ..., \"version\": ..., "
      "\"round_trip_ms\": ...}\n";

static int
ping_run(struct cli_state *cli, int argc, char **argv)
{
	struct timespec a, b;
	int64_t server_time;
	char *version;
	char when[64];
	double rtt;
	int rv;

	if (!cli_parse(cli, argc, argv, NULL) || !cli_positional(cli, 0, 0, "")
	    || !cli_connect(cli)) {
		return (cli->status);
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	rv = cairn_ping(cli->client, &server_time, &version);
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (rv != CAIRN_OK) {
		return (cli_call_failed(cli, rv));
	}
	rtt = (double) (b.tv_sec - a.tv_sec) * 1e3
	    + (double) (b.tv_nsec - a.tv_nsec) / 1e6;
	if (cli->json) {
		struct json j;
		json_begin_doc(&j, stdout);
		json_kv_int(&j, "server_time_ms", server_time);
		json_kv_string(&j, "version", version);
		json_key(&j, "round_trip_ms");
		json_double(&j, rtt);
		json_end_doc(&j);
	} else {
		fmt_time(server_time, when, sizeof(when));
		printf("%-12s %s\n", "server:", cli->server);
		printf("%-12s %s\n", "version:", version);
		printf("%-12s %.3f ms\n", "round_trip:", rtt);
		printf("%-12s %s\n", "server_time:", when);
	}
	cairn_free(version);
	return (EXIT_OK);
}

const struct cli_cmd cli_cmd_ping
    = { "ping", "check that the server answers", ping_help, ping_run };
