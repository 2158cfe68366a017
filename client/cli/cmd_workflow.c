/*
 * cmd_workflow.c - `cairn workflow SUBCOMMAND`: the dispatch to the
 * subcommands, and those that start and steer runs: start, signal, cancel,
 * terminate, get and await (list and history are in cmd_wf_inspect.c).
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cairn_json.h"

/*
 * wf_run_named reads the run a subcommand names: --workflow-id, or else
 * the first positional argument, a run id when it is all digits and a
 * workflow id otherwise. npos is how many positional arguments the
 * subcommand takes with the run. False after a usage error.
 */
bool
wf_run_named(struct cli_state *cli, const char *workflow_id, int npos,
    const char *what, uint64_t *run_id, const char **wfid)
{
	int first = workflow_id != NULL ? 0 : 1;

	if (!cli_positional(cli, npos + first, npos + first, what)) {
		return (false);
	}
	*run_id = 0;
	*wfid = workflow_id;
	if (workflow_id != NULL) {
		return (true);
	}
	const char *t = cli->pos[0];
	size_t i = 0;
	while (isdigit((unsigned char) t[i])) {
		i++;
	}
	if (i > 0 && t[i] == '\0' && i < 20) {
		*run_id = strtoull(t, NULL, 10);
		if (*run_id == 0) {
			cli->status = cli_usage(cli, "run id 0 names no run");
			return (false);
		}
		return (true);
	}
	*wfid = t;
	return (true);
}

/* payload_arg reads a payload given as TEXT, a FILE, or "-" (standard
 * input) into *buf (NULL for TEXT, to free) and *p, *len. */
static bool
payload_arg(struct cli_state *cli, const char *text, const char *file,
    bool stdin_too, uint8_t **buf, const void **p, size_t *len)
{
	*buf = NULL;
	*p = NULL;
	*len = 0;
	if ((text != NULL) + (file != NULL) + stdin_too > 1) {
		cli->status = cli_usage(
		    cli, "give the input once: as text, from a file, or -");
		return (false);
	}
	if (file != NULL || stdin_too) {
		if (!read_file(file != NULL ? file : "-", buf, len)) {
			cli->status = EXIT_CALL;
			return (false);
		}
		*p = *buf;
	} else if (text != NULL) {
		*p = text;
		*len = strlen(text);
	}
	return (true);
}

/* ---- start ---------------------------------------------------------- */

static const char start_help[]
    = "Usage: cairn workflow start TYPE [--id WORKFLOW_ID] [--queue Q]\n"
      "                           [--input TEXT | --input-file FILE | -]\n"
      "\n"
      "Starts a run of the workflow TYPE and prints its run id and workflow\n"
      "id. With --id, starting again with the same id gives the first run,\n"
      "marked \"(existing)\".\n"
      "\n"
      "Options:\n"
      "  --id ID             workflow id, unique while the run is kept\n"
      "                      (default: the server makes one up)\n"
      "  --queue Q           queue its workflow workers lease from\n"
      "                      (default \"" CAIRN_WF_DEFAULT_QUEUE "\")\n"
      "  --input TEXT        the run's input\n"
      "  --input-file FILE   the contents of FILE\n"
      "  -                   standard input\n"
      "  --json              print {\"run_id\": N, \"workflow_id\": ..., "
      "\"created\": ...}\n"
      "\n"
      "Example:\n"
      "  cairn workflow start order --id order-42 --input '{\"sku\": 7}'\n";

static int
start_run(struct cli_state *cli, int argc, char **argv)
{
	const char *id = NULL, *queue = NULL, *text = NULL, *file = NULL;
	const struct cli_flag flags[] = {
		{ "id", .text = &id },
		{ "queue", .text = &queue },
		{ "input", .text = &text },
		{ "input-file", .text = &file },
		{ "json", .set = &cli->json },
		{ NULL },
	};
	char *wfid = NULL;
	uint64_t run_id;
	uint8_t *buf;
	const void *in;
	size_t len;
	bool created;
	int rv;

	if (!cli_parse(cli, argc, argv, flags)
	    || !cli_positional(cli, 1, 2, "TYPE")) {
		return (cli->status);
	}
	if (cli->npos == 2 && strcmp(cli->pos[1], "-") != 0) {
		return (
		    cli_usage(cli, "unexpected argument '%s'", cli->pos[1]));
	}
	if (!payload_arg(cli, text, file, cli->npos == 2, &buf, &in, &len)) {
		return (cli->status);
	}
	if (!cli_connect(cli)) {
		free(buf);
		return (cli->status);
	}
	rv = cairn_workflow_start(cli->client, id, cli->pos[0], queue, in, len,
	    &run_id, &wfid, &created);
	free(buf);
	if (rv != CAIRN_OK) {
		return (cli_call_failed(cli, rv));
	}
	if (cli->json) {
		struct json j;
		json_begin_doc(&j, stdout);
		json_kv_uint(&j, "run_id", run_id);
		json_kv_string(&j, "workflow_id", wfid);
		json_kv_bool(&j, "created", created);
		json_end_doc(&j);
	} else {
		printf("%" PRIu64 " %s%s\n", run_id, wfid,
		    created ? "" : " (existing)");
	}
	cairn_free(wfid);
	return (EXIT_OK);
}

/* ---- signal ------------------------------------------------------------ */

static const char signal_help[]
    = "Usage: cairn workflow signal RUN NAME [--payload TEXT |\n"
      "                            --payload-file FILE | -]\n"
      "\n"
      "Sends the signal NAME to RUN (a run id, or a workflow id). It "
      "completes\n"
      "the run's oldest wait for NAME, or waits in the run's inbox, in "
      "order,\n"
      "for the next one. Prints which entry it completed, or that it was "
      "kept.\n"
      "\n"
      "Options:\n"
      "  --workflow-id ID     name the run by this workflow id (for ids "
      "made\n"
      "                       of digits); then RUN is not given\n"
      "  --payload TEXT       the signal's payload\n"
      "  --payload-file FILE  the contents of FILE\n"
      "  -                    standard input\n"
      "  --json               print {\"run_id\": N, \"delivered_seq\": N}\n";

static int
signal_run(struct cli_state *cli, int argc, char **argv)
{
	const char *wf = NULL, *text = NULL, *file = NULL, *wfid;
	const struct cli_flag flags[] = {
		{ "workflow-id", .text = &wf },
		{ "payload", .text = &text },
		{ "payload-file", .text = &file },
		{ "json", .set = &cli->json },
		{ NULL },
	};
	uint64_t run_id, rid;
	uint32_t seq;
	uint8_t *buf;
	const void *p;
	size_t len;
	bool dash;
	int rv;

	if (!cli_parse(cli, argc, argv, flags)) {
		return (cli->status);
	}
	/* A trailing "-" reads the payload from standard input. */
	dash = cli->npos > 0 && strcmp(cli->pos[cli->npos - 1], "-") == 0;
	cli->npos -= dash;
	if (!wf_run_named(cli, wf, 1, "RUN and NAME", &run_id, &wfid)
	    || !payload_arg(cli, text, file, dash, &buf, &p, &len)) {
		return (cli->status);
	}
	if (!cli_connect(cli)) {
		free(buf);
		return (cli->status);
	}
	rv = cairn_workflow_signal(cli->client, run_id, wfid,
	    cli->pos[cli->npos - 1], p, len, &rid, &seq);
	free(buf);
	if (rv != CAIRN_OK) {
		return (cli_call_failed(cli, rv));
	}
	if (cli->json) {
		struct json j;
		json_begin_doc(&j, stdout);
		json_kv_uint(&j, "run_id", rid);
		json_kv_uint(&j, "delivered_seq", seq);
		json_end_doc(&j);
	} else if (seq != 0) {
		printf("delivered to run %" PRIu64 ", seq %" PRIu32 "\n", rid,
		    seq);
	} else {
		printf("kept in the inbox of run %" PRIu64
		       " until it waits for it\n",
		    rid);
	}
	return (EXIT_OK);
}

/* ---- cancel, terminate ------------------------------------------------ */

static const char cancel_help[]
    = "Usage: cairn workflow cancel RUN [--reason TEXT]\n"
      "\n"
      "Asks RUN (a run id, or a workflow id) to wind down: its pending "
      "waits\n"
      "end canceled (running activities learn it on their next heartbeat), "
      "and\n"
      "its code decides how to finish. Prints the run's state after the "
      "call.\n"
      "\n"
      "  --workflow-id ID  name the run by this workflow id\n"
      "  --reason TEXT     why, kept with the run\n"
      "  --json            print {\"state\": ...}\n";

static const char terminate_help[]
    = "Usage: cairn workflow terminate RUN [--reason TEXT]\n"
      "\n"
      "Ends RUN (a run id, or a workflow id) at once as terminated, with "
      "REASON\n"
      "as its error, without running its code again: its activities are\n"
      "canceled and its children terminated.\n"
      "\n"
      "  --workflow-id ID  name the run by this workflow id\n"
      "  --reason TEXT     why, kept as the run's error\n"
      "  --json            print {\"state\": ...}\n";

static int
stop_run(struct cli_state *cli, int argc, char **argv)
{
	bool terminate = strcmp(argv[0], "terminate") == 0;
	const char *wf = NULL, *reason = NULL, *wfid;
	const struct cli_flag flags[] = {
		{ "workflow-id", .text = &wf },
		{ "reason", .text = &reason },
		{ "json", .set = &cli->json },
		{ NULL },
	};
	cairn_workflow_state st;
	uint64_t run_id;
	int rv;

	if (!cli_parse(cli, argc, argv, flags)
	    || !wf_run_named(cli, wf, 0, "RUN", &run_id, &wfid)
	    || !cli_connect(cli)) {
		return (cli->status);
	}
	rv = terminate
	    ? cairn_workflow_terminate(cli->client, run_id, wfid, reason, &st)
	    : cairn_workflow_cancel(cli->client, run_id, wfid, reason, &st);
	if (rv != CAIRN_OK) {
		return (cli_call_failed(cli, rv));
	}
	if (cli->json) {
		struct json j;
		json_begin_doc(&j, stdout);
		json_kv_string(&j, "state", cairn_workflow_state_name(st));
		json_end_doc(&j);
	} else if (st == CAIRN_WF_RUNNING) {
		puts("running (cancel requested: the code sees it at its next "
		     "wait)");
	} else {
		puts(cairn_workflow_state_name(st));
	}
	return (EXIT_OK);
}

/* ---- get, await -----------------------------------------------------------
 */

static const char get_help[]
    = "Usage: cairn workflow get RUN\n"
      "\n"
      "Prints RUN (a run id, or a workflow id): its state, result or "
      "error,\n"
      "whether it is stuck and why, its log's length and its lease.\n"
      "\n"
      "  --workflow-id ID  name the run by this workflow id\n"
      "  --json            print the run as a JSON object\n";

static int
get_run(struct cli_state *cli, int argc, char **argv)
{
	const char *wf = NULL, *wfid;
	const struct cli_flag flags[] = {
		{ "workflow-id", .text = &wf },
		{ "json", .set = &cli->json },
		{ NULL },
	};
	cairn_workflow_run *r;
	uint64_t run_id;
	int rv;

	if (!cli_parse(cli, argc, argv, flags)
	    || !wf_run_named(cli, wf, 0, "RUN", &run_id, &wfid)
	    || !cli_connect(cli)) {
		return (cli->status);
	}
	if ((rv = cairn_workflow_get(cli->client, run_id, wfid, &r))
	    != CAIRN_OK) {
		return (cli_call_failed(cli, rv));
	}
	if (cli->json) {
		struct json j;
		json_init(&j, stdout);
		json_run(&j, r);
		json_end(&j);
	} else {
		print_run(r);
	}
	cairn_workflow_run_free(r);
	return (EXIT_OK);
}

static const char await_help[]
    = "Usage: cairn workflow await RUN [--wait DUR]\n"
      "\n"
      "Waits until RUN (a run id, or a workflow id) has finished and prints "
      "it.\n"
      "Without --wait it waits as long as it takes.\n"
      "\n"
      "Exit status: 0 succeeded, 3 failed, canceled or terminated, 4 not\n"
      "finished when the wait ended, 1 the call failed.\n"
      "\n"
      "Options:\n"
      "  --workflow-id ID  name the run by this workflow id\n"
      "  --wait DUR        give up after DUR\n"
      "  --json            print {\"run\": {...}, \"done\": true|false}\n";

/* One long-poll waits at most this long (as `cairn await`). */
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
	const char *wf = NULL, *wfid;
	int64_t wait = -1, end;
	const struct cli_flag flags[] = {
		{ "workflow-id", .text = &wf },
		{ "wait", .ms = &wait },
		{ "json", .set = &cli->json },
		{ NULL },
	};
	cairn_workflow_run *r = NULL;
	uint64_t run_id;
	bool done = false;
	int rv;

	if (!cli_parse(cli, argc, argv, flags)
	    || !wf_run_named(cli, wf, 0, "RUN", &run_id, &wfid)
	    || !cli_connect(cli)) {
		return (cli->status);
	}
	end = wait >= 0 ? mono_ms() + wait : INT64_MAX;
	for (;;) {
		int64_t left = end - mono_ms();
		int64_t chunk = left < AWAIT_CHUNK_MS ? (left > 0 ? left : 0)
		                                      : AWAIT_CHUNK_MS;
		rv = cairn_workflow_await(
		    cli->client, run_id, wfid, chunk, &r, &done);
		if (rv != CAIRN_OK) {
			return (cli_call_failed(cli, rv));
		}
		if (done || mono_ms() >= end) {
			break;
		}
		cairn_workflow_run_free(r);
	}
	if (cli->json) {
		struct json j;
		json_begin_doc(&j, stdout);
		json_key(&j, "run");
		json_run(&j, r);
		json_kv_bool(&j, "done", done);
		json_end_doc(&j);
	} else {
		print_run(r);
	}
	rv = !done
	    ? EXIT_NOT_DONE
	    : (r->state == CAIRN_WF_SUCCEEDED ? EXIT_OK : EXIT_TASK_FAILED);
	cairn_workflow_run_free(r);
	return (rv);
}

/* ---- the dispatch ------------------------------------------------------ */

static const struct cli_cmd wf_start
    = { "workflow start", "start a run", start_help, start_run };
static const struct cli_cmd wf_signal
    = { "workflow signal", "send a signal to a run", signal_help, signal_run };
static const struct cli_cmd wf_cancel
    = { "workflow cancel", "ask a run to wind down", cancel_help, stop_run };
static const struct cli_cmd wf_terminate
    = { "workflow terminate", "end a run at once", terminate_help, stop_run };
static const struct cli_cmd wf_get
    = { "workflow get", "show a run", get_help, get_run };
static const struct cli_cmd wf_await
    = { "workflow await", "wait for a run to finish", await_help, await_run };

static const struct cli_cmd *const subcommands[] = {
	&wf_start,
	&wf_signal,
	&wf_cancel,
	&wf_terminate,
	&wf_get,
	&cli_wf_list,
	&cli_wf_history,
	&wf_await,
};
#define NSUB (sizeof(subcommands) / sizeof(subcommands[0]))

static const char workflow_help[]
    = "Usage: cairn workflow SUBCOMMAND [ARGS...]\n"
      "\n"
      "Starts, steers and inspects durable workflow runs "
      "(docs/WORKFLOWS.md).\n"
      "RUN is a run id, or a workflow id (--workflow-id for ids made of "
      "digits).\n"
      "\n"
      "Subcommands:\n"
      "  start      start a run\n"
      "  signal     send a signal to a run\n"
      "  cancel     ask a run to wind down\n"
      "  terminate  end a run at once\n"
      "  get        show a run\n"
      "  list       list runs, by type, state, queue, stuck\n"
      "  history    show a run's log as a timeline\n"
      "  await      wait for a run to finish\n"
      "\n"
      "'cairn workflow SUBCOMMAND --help' describes one.\n";

static int
workflow_run(struct cli_state *cli, int argc, char **argv)
{
	char name[64];

	if (argc < 2) {
		return (cli_usage(cli, "missing SUBCOMMAND"));
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(workflow_help, stdout);
		return (EXIT_OK);
	}
	snprintf(name, sizeof(name), "workflow %s", argv[1]);
	for (size_t i = 0; i < NSUB; i++) {
		if (strcmp(subcommands[i]->name, name) == 0) {
			/* Messages then name the subcommand and its help. */
			cli->cmd = subcommands[i];
			return (cli->cmd->run(cli, argc - 1, argv + 1));
		}
	}
	return (cli_usage(cli, "unknown subcommand '%s'", argv[1]));
}

const struct cli_cmd cli_cmd_workflow
    = { "workflow", "start, steer and inspect workflow runs", workflow_help,
	      workflow_run };
