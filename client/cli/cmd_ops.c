/*
 * cmd_ops.c - the operator's commands: `work` (a worker that runs a
 * command per task) and `backup`.
 */
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cairn_json.h"
#include "shellwork.h"

/* ---- work --------------------------------------------------------------- */

static const char work_help[]
    = "Usage: cairn work QUEUE[,QUEUE...] [OPTIONS] -- COMMAND [ARGS...]\n"
      "\n"
      "Leases tasks of QUEUE (long-poll) and runs COMMAND once per task, "
      "with\n"
      "the payload on its standard input and CAIRN_TASK_ID, CAIRN_ATTEMPT "
      "and\n"
      "CAIRN_QUEUE in its environment, heartbeating while it runs. Exit 0\n"
      "completes the task with the command's standard output as the result;\n"
      "any other end fails the attempt (retried under the task's policy) "
      "with\n"
      "the exit status and the tail of its standard error. A task canceled "
      "or\n"
      "whose lease is lost meanwhile gets its command killed: SIGTERM to its\n"
      "process group, then SIGKILL after --kill-after.\n"
      "\n"
      "SIGINT or SIGTERM: stop leasing, let running commands finish, exit 0.\n"
      "A second one kills them and gives their tasks back (failed as\n"
      "retryable, due again at once).\n"
      "\n"
      "Options:\n"
      "  --concurrency N     commands at once (default 1)\n"
      "  --wait DUR          long-poll of each lease (default 5s); also how\n"
      "                      long an idle worker takes to notice a stop\n"
      "  --lease-timeout DUR lease time per heartbeat (default: the task's\n"
      "                      heartbeat timeout)\n"
      "  --heartbeat DUR     heartbeat interval (default a third of the "
      "lease)\n"
      "  --kill-after DUR    from SIGTERM to SIGKILL (default 10s)\n"
      "  --max-output BYTES  larger stdout fails the task for good "
      "(default 1MiB)\n"
      "  --max-tasks N       exit after running N tasks\n"
      "  --worker-id ID      shown in the tasks' history (default host:pid)\n"
      "\n"
      "Example:\n"
      "  cairn work thumbnails --concurrency 4 -- ./make-thumbnail.sh\n";

/* The stop signals are blocked in every thread and taken here, so that
 * the worker's calls are never interrupted. */
struct signals {
	sigset_t set;
	cairn_worker *w;
	atomic_bool done;
};

static void *
signal_main(void *arg)
{
	struct signals *s = arg;
	struct timespec tick = { 0, 200 * 1000 * 1000 };
	int count = 0;

	while (!atomic_load(&s->done)) {
		int sig = sigtimedwait(&s->set, NULL, &tick);
		if (sig <= 0) {
			continue;
		}
		count++;
		fprintf(stderr, "cairn work: %s: %s\n", strsignal(sig),
		    count == 1 ? "stopping after the running tasks (again to "
		                 "give them back)"
		               : "giving the running tasks back");
		cairn_worker_stop(s->w, count > 1);
	}
	return (NULL);
}

/* split_queues turns "a,b" into a list (in place). */
static size_t
split_queues(char *text, const char **out, size_t max)
{
	size_t n = 0;

	for (char *q = strtok(text, ","); q != NULL && n < max;
	     q = strtok(NULL, ",")) {
		out[n++] = q;
	}
	return (n);
}

/* work_args parses everything before "--"; false: exit with status. */
static bool
work_args(struct cli_state *cli, int argc, char **argv,
    cairn_worker_options *o, struct shell *sh)
{
	/* Ranged flags fill a uint64_t; these two are narrower in o and sh. */
	uint64_t concurrency = o->concurrency, max_output = sh->max_output;
	const struct cli_flag flags[] = {
		{ "concurrency", .u64 = &concurrency, .min = 1, .max = 1024 },
		{ "wait", .ms = &o->poll_wait_ms },
		{ "lease-timeout", .ms = &o->lease_timeout_ms },
		{ "heartbeat", .ms = &o->heartbeat_ms },
		{ "kill-after", .ms = &sh->kill_after_ms },
		{ "max-output", .u64 = &max_output, .max = 1u << 30 },
		{ "max-tasks", .u64 = &o->max_tasks, .max = UINT32_MAX },
		{ "worker-id", .text = &o->worker_id },
		{ NULL },
	};

	if (!cli_parse(cli, argc, argv, flags)) {
		return (false);
	}
	o->concurrency = (unsigned) concurrency;
	sh->max_output = (size_t) max_output;
	return (cli_positional(cli, 1, 1, "QUEUE"));
}

static int
work_run(struct cli_state *cli, int argc, char **argv)
{
	cairn_worker_options o = { .concurrency = 1 };
	struct shell sh = { .kill_after_ms = 10000, .max_output = 1 << 20 };
	struct signals sigs = { .w = NULL };
	const char *queues[16];
	pthread_t sigthread;
	int dash = 1, rv;

	while (dash < argc && strcmp(argv[dash], "--") != 0) {
		dash++;
	}
	if (!work_args(cli, dash, argv, &o, &sh)) {
		return (cli->status);
	}
	if (dash + 1 >= argc) {
		return (cli_usage(cli, "no command: give it after '--'"));
	}
	o.queues = queues;
	o.nqueues = split_queues(cli->pos[0], queues, 16);
	sh.argv = argv + dash + 1;
	if ((sh.path = shellwork_resolve(sh.argv[0])) == NULL) {
		return (cli_error("work: %s: command not found or not "
		                  "executable",
		    sh.argv[0]));
	}
	/* Before any thread exists, so that all inherit the mask. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs.set);
	sigaddset(&sigs.set, SIGINT);
	sigaddset(&sigs.set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs.set, NULL);
	if (!cli_connect(cli)) {
		free(sh.path);
		return (cli->status);
	}
	if ((rv = cairn_worker_new(
	         &sigs.w, cli->client, &o, shellwork_handler, &sh))
	    != CAIRN_OK) {
		free(sh.path);
		return (cli_call_failed(cli, rv));
	}
	pthread_create(&sigthread, NULL, signal_main, &sigs);
	rv = cairn_worker_run(sigs.w);
	atomic_store(&sigs.done, true);
	pthread_join(sigthread, NULL);
	cairn_worker_free(sigs.w);
	free(sh.path);
	return (rv == CAIRN_OK ? EXIT_OK : cli_call_failed(cli, rv));
}

const struct cli_cmd cli_cmd_shellwork = { "work",
	"run a command for each task of a queue", work_help, work_run };

/* ---- backup ------------------------------------------------------------- */

static const char backup_help[]
    = "Usage: cairn backup FILE [--wait DUR] [--json]\n"
      "\n"
      "Makes the server write an online copy of its SQLite store into FILE,\n"
      "a new file name in the server's backup directory (cairnd\n"
      "--backup-dir; by default the database's directory), on the server's\n"
      "machine. The server keeps serving meanwhile; the copy is checked with\n"
      "PRAGMA integrity_check before the command succeeds, and cairnd\n"
      "--store sqlite:PATH starts from it. Prints the path and the size.\n"
      "With PostgreSQL use pg_basebackup or pg_dump instead.\n"
      "\n"
      "Options:\n"
      "  --wait DUR  give up waiting after DUR (default 1h)\n"
      "  --json      print {\"path\": ..., \"bytes\": N}\n";

static int
backup_run(struct cli_state *cli, int argc, char **argv)
{
	int64_t wait = 0;
	const struct cli_flag flags[] = {
		{ "wait", .ms = &wait },
		{ "json", .set = &cli->json },
		{ NULL },
	};
	uint64_t bytes = 0;
	char *path = NULL;
	int rv;

	if (!cli_parse(cli, argc, argv, flags)
	    || !cli_positional(cli, 1, 1, "FILE") || !cli_connect(cli)) {
		return (cli->status);
	}
	rv = cairn_backup(cli->client, cli->pos[0], wait, &path, &bytes);
	if (rv != CAIRN_OK) {
		return (cli_call_failed(cli, rv));
	}
	if (cli->json) {
		struct json j;
		json_begin_doc(&j, stdout);
		json_kv_string(&j, "path", path);
		json_kv_uint(&j, "bytes", bytes);
		json_end_doc(&j);
	} else {
		printf("%s (%" PRIu64 " bytes, integrity ok)\n", path, bytes);
	}
	cairn_free(path);
	return (EXIT_OK);
}

const struct cli_cmd cli_cmd_backup
    = { "backup", "make the server write a checked online copy of its store",
	      backup_help, backup_run };
