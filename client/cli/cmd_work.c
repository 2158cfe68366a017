/*
 * cmd_work.c - the producer's commands and the start of a worker's: enqueue
 * and lease.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cairn_json.h"

/* ---- enqueue ---------------------------------------------------------- */

static const char enqueue_help[]
    = "Usage: cairn enqueue QUEUE [--payload TEXT | --payload-file FILE | -]\n"
      "                     [OPTIONS]\n"
      "\n"
      "Adds one task to QUEUE and prints its id. With --key, enqueuing again\n"
      "with the same key gives the first task's id, marked \"(existing)\".\n"
      "\n"
      "Payload (opaque bytes, empty when none is given):\n"
      "  --payload TEXT           the payload itself\n"
      "  --payload-file FILE      the contents of FILE\n"
      "  -                        standard input\n"
      "\n"
      "Options (unset ones take the server's defaults):\n"
      "  --priority N             higher runs first (default 0; may be "
      "negative)\n"
      "  --delay DUR              run no sooner than DUR from now\n"
      "  --run-at-ms N            run no sooner than this instant, in ms "
      "since\n"
      "                           the Unix epoch (wins over --delay)\n"
      "  --max-attempts N         attempts before the task fails (default "
      "25)\n"
      "  --heartbeat-timeout DUR  a lease without heartbeat for DUR is lost\n"
      "                           (default 60s)\n"
      "  --start-to-close DUR     time limit of one attempt (default none)\n"
      "  --key K                  idempotency key, unique in the queue\n"
      "  --retry-initial DUR      backoff after the first failure (default "
      "1s)\n"
      "  --retry-multiplier X     backoff growth per attempt (default 2)\n"
      "  --retry-max DUR          longest backoff (default 1h)\n"
      "  --json                   print {\"id\": N, \"created\": true|false}\n"
      "\n"
      "Example:\n"
      "  cairn enqueue emails --payload '{\"to\": \"ana@example.com\"}' "
      "--key signup-42\n";

/* enqueue_args reads the options into s and the payload's source, and
 * checks the positional arguments; false: exit with cli->status. */
static bool
enqueue_args(struct cli_state *cli, int argc, char **argv, cairn_task_spec *s,
    const char **text, const char **file)
{
	uint64_t run_at = 0; /* signed in s, but never negative */
	const struct cli_flag flags[] = {
		{ "payload", .text = text },
		{ "payload-file", .text = file },
		{ "priority", .i32 = &s->priority },
		{ "delay", .ms = &s->delay_ms },
		{ "run-at-ms", .u64 = &run_at, .max = INT64_MAX },
		{ "max-attempts", .u32 = &s->max_attempts },
		{ "heartbeat-timeout", .ms = &s->heartbeat_timeout_ms },
		{ "start-to-close", .ms = &s->start_to_close_timeout_ms },
		{ "key", .text = &s->idempotency_key },
		{ "retry-initial", .ms = &s->retry_initial_backoff_ms },
		{ "retry-multiplier", .num = &s->retry_multiplier },
		{ "retry-max", .ms = &s->retry_max_backoff_ms },
		{ "json", .set = &cli->json },
		{ NULL },
	};

	if (!cli_parse(cli, argc, argv, flags)
	    || !cli_positional(cli, 1, 2, "QUEUE")) {
		return (false);
	}
	s->run_at_ms = (int64_t) run_at;
	if (cli->npos == 2 && strcmp(cli->pos[1], "-") != 0) {
		cli->status
		    = cli_usage(cli, "unexpected argument '%s'", cli->pos[1]);
		return (false);
	}
	if ((*text != NULL) + (*file != NULL) + (cli->npos == 2) > 1) {
		cli->status = cli_usage(cli,
		    "give the payload once: --payload, --payload-file or -");
		return (false);
	}
	return (true);
}

static int
enqueue_run(struct cli_state *cli, int argc, char **argv)
{
	cairn_task_spec spec = { 0 };
	cairn_enqueue_result res;
	const char *text = NULL, *file = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rv;

	if (!enqueue_args(cli, argc, argv, &spec, &text, &file)) {
		return (cli->status);
	}
	spec.queue = cli->pos[0];
	if (cli->npos == 2 || file != NULL) {
		if (!read_file(file != NULL ? file : "-", &buf, &len)) {
			return (EXIT_CALL);
		}
		spec.payload = buf;
		spec.payload_len = len;
	} else if (text != NULL) {
		spec.payload = text;
		spec.payload_len = strlen(text);
	}

	if (!cli_connect(cli)) {
		free(buf);
		return (cli->status);
	}
	rv = cairn_enqueue(cli->client, &spec, 1, &res);
	free(buf);
	if (rv != CAIRN_OK) {
		return (cli_call_failed(cli, rv));
	}
	if (cli->json) {
		struct json j;
		json_begin_doc(&j, stdout);
		json_kv_uint(&j, "id", res.id);
		json_kv_bool(&j, "created", res.created);
		json_end_doc(&j);
	} else {
		printf("%" PRIu64 "%s\n", res.id,
		    res.created ? "" : " (existing)");
	}
	return (EXIT_OK);
}

const struct cli_cmd cli_cmd_enqueue
    = { "enqueue", "add a task to a queue", enqueue_help, enqueue_run };

/* ---- lease ------------------------------------------------------------ */

static const char lease_help[]
    = "Usage: cairn lease QUEUE [QUEUE...] [OPTIONS]\n"
      "\n"
      "Leases due tasks, highest priority first, and prints for each its id,\n"
      "attempt, lease token, deadline and payload. Finish each one before "
      "its\n"
      "deadline with 'cairn complete ID --token T' or 'cairn fail ID --token "
      "T',\n"
      "or push the deadline back with 'cairn heartbeat ID --token T'.\n"
      "When nothing is due it prints nothing (with --json: []) and exits 0.\n"
      "\n"
      "Options:\n"
      "  --max N           lease up to N tasks (default 1)\n"
      "  --wait DUR        when nothing is due, wait up to DUR for a task\n"
      "                    (default: answer at once)\n"
      "  --lease-time DUR  heartbeat deadline, instead of each task's\n"
      "                    heartbeat timeout\n"
      "  --worker ID       worker name kept in the history (default "
      "HOST:PID)\n"
      "  --release-on-disconnect\n"
      "                    bind the leases to this command's connection: "
      "they\n"
      "                    end soon after it exits unless heartbeated "
      "(off:\n"
      "                    a task leased here is finished by later "
      "commands)\n"
      "  --json            print an array of {\"task\": {...}, "
      "\"lease_token\": ...,\n"
      "                    \"deadline_ms\": ...}\n";

static void
lease_print(struct cli_state *cli, cairn_task *const *tasks, size_t n)
{
	char when[64];

	if (cli->json) {
		struct json j;
		json_init(&j, stdout);
		json_begin_array(&j);
		for (size_t i = 0; i < n; i++) {
			json_begin_object(&j);
			json_key(&j, "task");
			json_task(&j, tasks[i]);
			json_kv_string(
			    &j, "lease_token", tasks[i]->lease_token);
			json_kv_int(
			    &j, "deadline_ms", tasks[i]->lease_deadline_ms);
			json_end_object(&j);
		}
		json_end_array(&j);
		json_end(&j);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const cairn_task *t = tasks[i];
		if (i > 0) {
			putchar('\n');
		}
		fmt_time(t->lease_deadline_ms, when, sizeof(when));
		printf("%-10s %" PRIu64 "\n", "id:", t->id);
		printf("%-10s %s\n", "queue:", t->queue);
		printf("%-10s %" PRIu32 " of %" PRIu32 "\n",
		    "attempt:", t->attempt, t->max_attempts);
		printf("%-10s %s\n", "token:", t->lease_token);
		printf("%-10s %s\n", "deadline:", when);
		if (t->details_len > 0) {
			fputs("details:   ", stdout);
			print_bytes(stdout, t->details, t->details_len);
			putchar('\n');
		}
		fputs("payload:   ", stdout);
		print_bytes(stdout, t->payload, t->payload_len);
		putchar('\n');
	}
}

static int
lease_run(struct cli_state *cli, int argc, char **argv)
{
	cairn_lease_options opts = { 0 };
	const struct cli_flag flags[] = {
		{ "max", .u32 = &opts.max_tasks },
		{ "wait", .ms = &opts.wait_ms },
		{ "lease-time", .ms = &opts.lease_timeout_ms },
		{ "worker", .text = &opts.worker_id },
		{ "release-on-disconnect",
		    .set = &opts.release_on_disconnect },
		{ "json", .set = &cli->json },
		{ NULL },
	};
	cairn_task **tasks;
	size_t n;
	int rv;

	if (!cli_parse(cli, argc, argv, flags)
	    || !cli_positional(cli, 1, -1, "QUEUE") || !cli_connect(cli)) {
		return (cli->status);
	}
	rv = cairn_lease(cli->client, (const char *const *) cli->pos,
	    (size_t) cli->npos, &opts, &tasks, &n);
	if (rv != CAIRN_OK) {
		return (cli_call_failed(cli, rv));
	}
	lease_print(cli, tasks, n);
	cairn_tasks_free(tasks, n);
	return (EXIT_OK);
}

const struct cli_cmd cli_cmd_lease
    = { "lease", "lease due tasks, to work on them", lease_help, lease_run };
