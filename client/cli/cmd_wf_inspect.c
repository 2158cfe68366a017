/*
 * cmd_wf_inspect.c - `cairn workflow list` and `cairn workflow history`:
 * runs by type, state, queue or stuck, and a run's log as a timeline.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cairn_json.h"

/* ---- list ------------------------------------------------------------- */

static const char list_help[]
    = "Usage: cairn workflow list [--type T] [--state S] [--queue Q] "
      "[--stuck]\n"
      "                          [--limit N] [--after RUN_ID] [--all]\n"
      "\n"
      "Lists runs in run id order, one page at a time.\n"
      "\n"
      "Options:\n"
      "  --type T        only runs of the workflow type T\n"
      "  --state S       only runs in state S: running, succeeded, failed,\n"
      "                  canceled, terminated (default: any)\n"
      "  --queue Q       only runs whose workflow tasks are on queue Q\n"
      "  --stuck         only runs whose last workflow task failed (a "
      "replay\n"
      "                  error or non-determinism); they are still running\n"
      "  --limit N       runs per page (server default 100)\n"
      "  --after RUN_ID  start after this run (the page token printed at "
      "the\n"
      "                  end of a page)\n"
      "  --all           follow the pages to the end\n"
      "  --json          print {\"runs\": [...], \"next_after_run_id\": N}\n";

static int
list_run(struct cli_state *cli, int argc, char **argv)
{
	cairn_workflow_filter filter = { 0 };
	const char *state = NULL;
	uint32_t limit = 0;
	uint64_t after = 0, next = 0;
	bool all = false, first = true;
	const struct cli_flag flags[] = {
		{ "type", .text = &filter.type },
		{ "state", .text = &state },
		{ "queue", .text = &filter.queue },
		{ "stuck", .set = &filter.stuck },
		{ "limit", .u32 = &limit },
		{ "after", .u64 = &after, .max = UINT64_MAX },
		{ "all", .set = &all },
		{ "json", .set = &cli->json },
		{ NULL },
	};
	struct json j;
	int rv;

	if (!cli_parse(cli, argc, argv, flags)
	    || !cli_positional(cli, 0, 0, "")) {
		return (cli->status);
	}
	if (state != NULL
	    && !cairn_workflow_state_parse(state, &filter.state)) {
		return (cli_usage(cli,
		    "--state: unknown state '%s' (running, succeeded, failed, "
		    "canceled, terminated)",
		    state));
	}
	if (!cli_connect(cli)) {
		return (cli->status);
	}
	/* Pages are printed as they come, as `cairn list` does. */
	json_init(&j, stdout);
	do {
		cairn_workflow_run **runs;
		size_t n;

		rv = cairn_workflow_list(
		    cli->client, &filter, limit, after, &runs, &n, &next);
		if (rv != CAIRN_OK) {
			return (cli_call_failed(cli, rv));
		}
		if (cli->json && first) {
			json_begin_object(&j);
			json_key(&j, "runs");
			json_begin_array(&j);
		}
		for (size_t i = 0; cli->json && i < n; i++) {
			json_run(&j, runs[i]);
		}
		if (!cli->json) {
			print_run_table(runs, n, first);
		}
		cairn_workflow_runs_free(runs, n);
		first = false;
		after = next;
	} while (all && next != 0);

	if (cli->json) {
		json_end_array(&j);
		json_kv_uint(&j, "next_after_run_id", next);
		json_end_doc(&j);
	} else if (next != 0) {
		printf(
		    "(more: cairn workflow list --after %" PRIu64 ")\n", next);
	}
	return (EXIT_OK);
}

const struct cli_cmd cli_wf_list
    = { "workflow list", "list runs", list_help, list_run };

/* ---- history ------------------------------------------------------------ */

static const char history_help[]
    = "Usage: cairn workflow history RUN\n"
      "\n"
      "Prints the log of RUN (a run id, or a workflow id) as a timeline, "
      "one\n"
      "entry per line: its seq, kind (step, activity, timer, signal, "
      "child,\n"
      "marker), name, status (pending, completed, failed, timed_out, "
      "canceled),\n"
      "when it was recorded and how long its outcome took, the attempts of "
      "an\n"
      "activity's task, what it refers to (task, child run, firing time), "
      "and\n"
      "the start of its result or its error.\n"
      "\n"
      "Options:\n"
      "  --workflow-id ID  name the run by this workflow id\n"
      "  --json            print {\"run\": {...}, \"entries\": [...]} "
      "with inputs\n";

static int
history_run(struct cli_state *cli, int argc, char **argv)
{
	const char *wf = NULL, *wfid;
	const struct cli_flag flags[] = {
		{ "workflow-id", .text = &wf },
		{ "json", .set = &cli->json },
		{ NULL },
	};
	uint64_t run_id;
	uint32_t after = 0;
	bool first = true;
	struct json j;
	int rv;

	if (!cli_parse(cli, argc, argv, flags)
	    || !wf_run_named(cli, wf, 0, "RUN", &run_id, &wfid)
	    || !cli_connect(cli)) {
		return (cli->status);
	}
	json_init(&j, stdout);
	do {
		cairn_workflow_run *r;
		cairn_wf_entry *e;
		size_t n;

		rv = cairn_workflow_history(
		    cli->client, run_id, wfid, after, 0, &r, &e, &n, &after);
		if (rv != CAIRN_OK) {
			return (cli_call_failed(cli, rv));
		}
		if (cli->json && first) {
			json_begin_object(&j);
			json_key(&j, "run");
			json_run(&j, r);
			json_key(&j, "entries");
			json_begin_array(&j);
		}
		for (size_t i = 0; cli->json && i < n; i++) {
			json_entry(&j, &e[i]);
		}
		if (!cli->json) {
			print_history(r, e, n, first);
		}
		/* The pages that follow are of the same run: its id, not a
		 * workflow id that a new run could take meanwhile. */
		run_id = r->run_id;
		wfid = NULL;
		cairn_wf_entries_free(e, n);
		cairn_workflow_run_free(r);
		first = false;
	} while (after != 0);
	if (cli->json) {
		json_end_array(&j);
		json_end_doc(&j);
	}
	return (EXIT_OK);
}

const struct cli_cmd cli_wf_history = { "workflow history",
	"show a run's log as a timeline", history_help, history_run };
