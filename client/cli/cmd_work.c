/*
 * cmd_work.c - the producer's commands and the start of a worker's: enqueue
 * and lease.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"

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

enum {
	E_PAYLOAD = OPT_FIRST_COMMAND_OPTION,
	E_PAYLOAD_FILE,
	E_PRIORITY,
	E_DELAY,
	E_RUN_AT,
	E_MAX_ATTEMPTS,
	E_HEARTBEAT,
	E_START_TO_CLOSE,
	E_KEY,
	E_RETRY_INITIAL,
	E_RETRY_MULT,
	E_RETRY_MAX,
};

static const struct option enqueue_opts[] = {
	{ "payload", required_argument, NULL, E_PAYLOAD },
	{ "payload-file", required_argument, NULL, E_PAYLOAD_FILE },
	{ "priority", required_argument, NULL, E_PRIORITY },
	{ "delay", required_argument, NULL, E_DELAY },
	{ "run-at-ms", required_argument, NULL, E_RUN_AT },
	{ "max-attempts", required_argument, NULL, E_MAX_ATTEMPTS },
	{ "heartbeat-timeout", required_argument, NULL, E_HEARTBEAT },
	{ "start-to-close", required_argument, NULL, E_START_TO_CLOSE },
	{ "key", required_argument, NULL, E_KEY },
	{ "retry-initial", required_argument, NULL, E_RETRY_INITIAL },
	{ "retry-multiplier", required_argument, NULL, E_RETRY_MULT },
	{ "retry-max", required_argument, NULL, E_RETRY_MAX },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

/* enqueue_option applies one option to spec; false on a usage error. */
static bool
enqueue_option(struct cli_state *cli, int ch, cairn_task_spec *s,
    const char **payload_text, const char **payload_file)
{
	uint64_t u;

	switch (ch) {
	case E_PAYLOAD:
		*payload_text = optarg;
		return (true);
	case E_PAYLOAD_FILE:
		*payload_file = optarg;
		return (true);
	case E_PRIORITY:
		return (arg_i32(cli, "--priority", optarg, &s->priority));
	case E_DELAY:
		return (arg_duration(cli, "--delay", optarg, &s->delay_ms));
	case E_RUN_AT:
		if (!arg_u64(cli, "--run-at-ms", optarg, INT64_MAX, &u)) {
			return (false);
		}
		s->run_at_ms = (int64_t) u;
		return (true);
	case E_MAX_ATTEMPTS:
		return (
		    arg_u32(cli, "--max-attempts", optarg, &s->max_attempts));
	case E_HEARTBEAT:
		return (arg_duration(cli, "--heartbeat-timeout", optarg,
		    &s->heartbeat_timeout_ms));
	case E_START_TO_CLOSE:
		return (arg_duration(cli, "--start-to-close", optarg,
		    &s->start_to_close_timeout_ms));
	case E_KEY:
		s->idempotency_key = optarg;
		return (true);
	case E_RETRY_INITIAL:
		return (arg_duration(cli, "--retry-initial", optarg,
		    &s->retry_initial_backoff_ms));
	case E_RETRY_MULT:
		return (arg_double(
		    cli, "--retry-multiplier", optarg, &s->retry_multiplier));
	case E_RETRY_MAX:
		return (arg_duration(
		    cli, "--retry-max", optarg, &s->retry_max_backoff_ms));
	default:
		return (true);
	}
}

static int
enqueue_run(struct cli_state *cli, int argc, char **argv)
{
	cairn_task_spec spec = { 0 };
	cairn_enqueue_result res;
	const char *text = NULL, *file = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	int ch, rv;

	while ((ch = cli_opt(cli, argc, argv, enqueue_opts)) >= 0) {
		if (!enqueue_option(cli, ch, &spec, &text, &file)) {
			return (cli->status);
		}
	}
	if (ch == CLI_STOP || !cli_positional(cli, 1, 2, "QUEUE")) {
		return (cli->status);
	}
	if (cli->npos == 2 && strcmp(cli->pos[1], "-") != 0) {
		return (
		    cli_usage(cli, "unexpected argument '%s'", cli->pos[1]));
	}
	if ((text != NULL) + (file != NULL) + (cli->npos == 2) > 1) {
		return (cli_usage(cli,
		    "give the payload once: --payload, "
		    "--payload-file or -"));
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

	if ((rv = cli_connect(cli)) != EXIT_OK) {
		free(buf);
		return (rv);
	}
	rv = cairn_enqueue(cli->client, &spec, 1, &res);
	free(buf);
	if (rv != CAIRN_OK) {
		return (cli_call_failed(cli, rv));
	}
	if (cli->json) {
		struct json j;
		json_init(&j, stdout);
		json_begin_object(&j);
		json_kv_uint(&j, "id", res.id);
		json_kv_bool(&j, "created", res.created);
		json_end_object(&j);
		json_end(&j);
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
      "  --json            print an array of {\"task\": {...}, "
      "\"lease_token\": ...,\n"
      "                    \"deadline_ms\": ...}\n";

enum {
	L_MAX = OPT_FIRST_COMMAND_OPTION,
	L_WAIT,
	L_LEASE_TIME,
	L_WORKER,
};

static const struct option lease_opts[] = {
	{ "max", required_argument, NULL, L_MAX },
	{ "wait", required_argument, NULL, L_WAIT },
	{ "lease-time", required_argument, NULL, L_LEASE_TIME },
	{ "worker", required_argument, NULL, L_WORKER },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

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
	cairn_task **tasks;
	size_t n;
	int ch, rv;

	while ((ch = cli_opt(cli, argc, argv, lease_opts)) >= 0) {
		bool ok = true;
		switch (ch) {
		case L_MAX:
			ok = arg_u32(cli, "--max", optarg, &opts.max_tasks);
			break;
		case L_WAIT:
			ok = arg_duration(
			    cli, "--wait", optarg, &opts.wait_ms);
			break;
		case L_LEASE_TIME:
			ok = arg_duration(cli, "--lease-time", optarg,
			    &opts.lease_timeout_ms);
			break;
		case L_WORKER:
			opts.worker_id = optarg;
			break;
		}
		if (!ok) {
			return (cli->status);
		}
	}
	if (ch == CLI_STOP || !cli_positional(cli, 1, -1, "QUEUE")) {
		return (cli->status);
	}
	if ((rv = cli_connect(cli)) != EXIT_OK) {
		return (rv);
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
