/*
 * main.c - `cairn`, the command-line client of the Cairn job-queue server:
 * global options, the command table and dispatch.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#ifndef CAIRN_VERSION
#define CAIRN_VERSION "unknown"
#endif

#define DEFAULT_SERVER "tcp://127.0.0.1:7420"

static const struct cli_cmd *const commands[] = {
	&cli_cmd_enqueue,
	&cli_cmd_lease,
	&cli_cmd_heartbeat,
	&cli_cmd_complete,
	&cli_cmd_fail,
	&cli_cmd_release,
	&cli_cmd_cancel,
	&cli_cmd_retry,
	&cli_cmd_get,
	&cli_cmd_list,
	&cli_cmd_stats,
	&cli_cmd_queue,
	&cli_cmd_await,
	&cli_cmd_history,
	&cli_cmd_ping,
	&cli_cmd_shellwork,
	&cli_cmd_backup,
	&cli_cmd_workflow,
	&cli_cmd_schedule,
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
usage(FILE *f)
{
	fputs("Usage: cairn [OPTIONS] COMMAND [ARGS...]\n"
	      "\n"
	      "Enqueue, lease and inspect tasks on a Cairn job-queue server "
	      "(cairnd).\n"
	      "\n"
	      "Options (before the command):\n"
	      "  --server URL    server address (default: $CAIRN_SERVER, "
	      "or " DEFAULT_SERVER ")\n"
	      "  --token T       auth token sent with every call (default: "
	      "$CAIRN_TOKEN)\n"
	      "  --timeout DUR   time limit of each call (default 10s); "
	      "lease --wait and\n"
	      "                  await --wait add their wait to it\n"
	      "  --tls-ca FILE   tls+tcp://: CAs (PEM) that sign the server's "
	      "certificate\n"
	      "                  (default: $CAIRN_TLS_CA, or the system's)\n"
	      "  --tls-cert FILE, --tls-key FILE\n"
	      "                  tls+tcp://: client certificate and key, for "
	      "servers that\n"
	      "                  require one (default: $CAIRN_TLS_CERT, "
	      "$CAIRN_TLS_KEY)\n"
	      "  --json          print one JSON document instead of text "
	      "(also accepted\n"
	      "                  after the command)\n"
	      "  --help          show this help\n"
	      "  --version       print the version\n"
	      "\n"
	      "Commands:\n",
	    f);
	for (size_t i = 0; i < NCOMMANDS; i++) {
		fprintf(f, "  %-10s  %s\n", commands[i]->name,
		    commands[i]->summary);
	}
	fputs(
	    "\n"
	    "'cairn COMMAND --help' (or 'cairn help COMMAND') describes a "
	    "command.\n"
	    "\n"
	    "Durations are written 250ms, 30s, 5m, 2h, 1d, or as a number of\n"
	    "milliseconds. Times are printed in ISO-8601, UTC.\n"
	    "\n"
	    "Exit status:\n"
	    "  0  success\n"
	    "  1  the call failed; stderr has one line: "
	    "'cairn: STATUS: message'\n"
	    "  2  bad command line\n"
	    "  3  await: the task (or run) ended failed or canceled\n"
	    "  4  await: the wait ended before the task did\n",
	    f);
}

static const struct cli_cmd *
find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (strcmp(commands[i]->name, name) == 0) {
			return (commands[i]);
		}
	}
	return (NULL);
}

bool
cli_connect(struct cli_state *cli)
{
	cairn_client_options opts = {
		.token = cli->token,
		.timeout_ms = cli->timeout_ms,
		.tls_ca_file = cli->tls_ca,
		.tls_cert_file = cli->tls_cert,
		.tls_key_file = cli->tls_key,
	};
	char err[512];
	int rv;

	/* Not lazy: a server that is down is reported at once, with the
	 * reason, instead of as a timeout of the first call. */
	rv = cairn_client_open(
	    &cli->client, cli->server, &opts, err, sizeof(err));
	if (rv != CAIRN_OK) {
		cli->status = cli_error("%s: %s", cairn_strerror(rv), err);
		return (false);
	}
	return (true);
}

/* help_command implements `cairn help [COMMAND]`. */
static int
help_command(struct cli_state *cli, int argc, char **argv)
{
	const struct cli_cmd *cmd;

	if (argc < 2) {
		usage(stdout);
		return (EXIT_OK);
	}
	if ((cmd = find_command(argv[1])) == NULL) {
		return (cli_usage(cli, "unknown command '%s'", argv[1]));
	}
	fputs(cmd->help, stdout);
	return (EXIT_OK);
}

enum {
	G_SERVER = OPT_FIRST_COMMAND_OPTION,
	G_TOKEN,
	G_TIMEOUT,
	G_VERSION,
	G_TLS_CA,
	G_TLS_CERT,
	G_TLS_KEY,
};

static const struct option global_opts[] = {
	{ "server", required_argument, NULL, G_SERVER },
	{ "token", required_argument, NULL, G_TOKEN },
	{ "timeout", required_argument, NULL, G_TIMEOUT },
	{ "tls-ca", required_argument, NULL, G_TLS_CA },
	{ "tls-cert", required_argument, NULL, G_TLS_CERT },
	{ "tls-key", required_argument, NULL, G_TLS_KEY },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, G_VERSION },
	{ NULL, 0, NULL, 0 },
};

/* parse_global reads the options before the command; CLI_STOP when the
 * program must exit with cli->status. */
static int
parse_global(struct cli_state *cli, int argc, char **argv)
{
	int ch;

	/* "+": stop at the command, whose options are its own. */
	while (
	    (ch = getopt_long(argc, argv, "+:h", global_opts, NULL)) != -1) {
		switch (ch) {
		case G_SERVER:
			cli->server = optarg;
			break;
		case G_TOKEN:
			cli->token = optarg;
			break;
		case G_TLS_CA:
			cli->tls_ca = optarg;
			break;
		case G_TLS_CERT:
			cli->tls_cert = optarg;
			break;
		case G_TLS_KEY:
			cli->tls_key = optarg;
			break;
		case G_TIMEOUT:
			if (!arg_duration(
			        cli, "--timeout", optarg, &cli->timeout_ms)) {
				return (CLI_STOP);
			}
			if (cli->timeout_ms == 0) {
				cli->status = cli_usage(
				    cli, "--timeout: must be more than 0");
				return (CLI_STOP);
			}
			break;
		case OPT_JSON:
			cli->json = true;
			break;
		case 'h':
		case OPT_HELP:
			usage(stdout);
			cli->status = EXIT_OK;
			return (CLI_STOP);
		case G_VERSION:
			printf("cairn %s\n", CAIRN_VERSION);
			cli->status = EXIT_OK;
			return (CLI_STOP);
		case ':':
			cli->status = cli_usage(cli,
			    "option '%s' needs a value", argv[optind - 1]);
			return (CLI_STOP);
		default:
			cli->status = cli_usage(
			    cli, "unknown option '%s'", argv[optind - 1]);
			return (CLI_STOP);
		}
	}
	return (0);
}

int
main(int argc, char **argv)
{
	struct cli_state cli = { .timeout_ms = 0 };
	const char *env;
	int status;

	cli.server = (env = getenv("CAIRN_SERVER")) != NULL && env[0] != '\0'
	    ? env
	    : DEFAULT_SERVER;
	cli.token = getenv("CAIRN_TOKEN");
	cli.tls_ca = getenv("CAIRN_TLS_CA");
	cli.tls_cert = getenv("CAIRN_TLS_CERT");
	cli.tls_key = getenv("CAIRN_TLS_KEY");

	if (parse_global(&cli, argc, argv) == CLI_STOP) {
		return (cli.status);
	}
	if (optind >= argc) {
		return (cli_usage(&cli, "no command given"));
	}
	argc -= optind;
	argv += optind;
	if (strcmp(argv[0], "help") == 0) {
		return (help_command(&cli, argc, argv));
	}
	if (strcmp(argv[0], "migrate") == 0) {
		/* The copy needs the store code of both backends, which the
		 * server has and this client has not. */
		return (cli_usage(&cli,
		    "migrate is a command of the server: cairnd migrate "
		    "--from URI --to URI (docs/POSTGRES.md)"));
	}
	if ((cli.cmd = find_command(argv[0])) == NULL) {
		return (cli_usage(&cli, "unknown command '%s'", argv[0]));
	}
	if ((cli.pos = calloc((size_t) argc, sizeof(*cli.pos))) == NULL) {
		return (cli_error("out of memory"));
	}
	optind = 0; /* glibc: start getopt afresh on the command's argv */
	status = cli.cmd->run(&cli, argc, argv);

	cairn_client_close(cli.client);
	free(cli.pos);
	if (fflush(stdout) != 0 && status == EXIT_OK) {
		status = cli_error("cannot write the output");
	}
	return (status);
}
