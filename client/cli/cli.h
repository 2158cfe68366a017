/*
 * cli.h - what the files of the `cairn` command-line tool share.
 *
 * The tool uses only the public API of cairn.h. Each command is a function
 * `int cmd_x(struct cli *, int argc, char **argv)` (argv[0] is the command
 * name) returning the process's exit status.
 */
#ifndef CAIRN_CLI_H
#define CAIRN_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cairn.h"

/* Exit statuses, documented in `cairn --help`. */
enum {
	EXIT_OK = 0,
	EXIT_CALL = 1,        /* a call failed, or an I/O error */
	EXIT_USAGE = 2,       /* bad command line */
	EXIT_TASK_FAILED = 3, /* await: task ended FAILED or CANCELED */
	EXIT_NOT_DONE = 4,    /* await: the wait ended first */
};

/* Long-only options take codes above any character. */
enum {
	OPT_JSON = 256,
	OPT_HELP,
	OPT_FIRST_COMMAND_OPTION,
};

/* Returned by cli_opt when the command must return cli->status now. */
#define CLI_STOP (-2)

struct cli_state;

struct cli_cmd {
	const char *name;
	const char *summary; /* one line, for `cairn --help` */
	const char *help;    /* the full text of `cairn NAME --help` */
	int (*run)(struct cli_state *, int argc, char **argv);
};

struct cli_state {
	const char *server;
	const char *token;
	const char *tls_ca;   /* tls+tcp:// only: PEM files */
	const char *tls_cert; /* client certificate, with tls_key */
	const char *tls_key;
	int64_t timeout_ms;
	bool json;
	const struct cli_cmd *cmd;
	cairn_client *client;
	int status; /* set with CLI_STOP */

	/* Positional arguments of the command being parsed. */
	char **pos;
	int npos;
};

/*
 * cli_opt returns the command's next option (its code in longopts), -1 at
 * the end of the options, or CLI_STOP after --help (status 0) or a usage
 * error (status 2, already reported). --json and --help are handled here
 * and must be in longopts; positional arguments are collected in cli->pos.
 */
int cli_opt(struct cli_state *cli, int argc, char **argv,
    const struct option *longopts);

/* cli_usage reports a usage error in one line and returns EXIT_USAGE. */
int cli_usage(struct cli_state *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The options of commands that take only --json and --help. */
extern const struct option cli_plain_opts[];

/* cli_id_command parses `CMD ID [--json]` and connects; false when the
 * command must end now with cli->status. */
bool cli_id_command(
    struct cli_state *cli, int argc, char **argv, uint64_t *id);

/* cli_error reports a failure in one line and returns EXIT_CALL. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* cli_call_failed reports the failed call's status and message. */
int cli_call_failed(struct cli_state *cli, int status);

/* cli_connect opens cli->client; on failure reports and returns
 * EXIT_CALL. */
int cli_connect(struct cli_state *cli);

/* Parsers for option values; each reports a usage error naming the flag
 * and returns false. */
bool arg_duration(
    struct cli_state *cli, const char *flag, const char *text, int64_t *ms);
bool arg_u64(struct cli_state *cli, const char *flag, const char *text,
    uint64_t max, uint64_t *out);
bool arg_u32(
    struct cli_state *cli, const char *flag, const char *text, uint32_t *out);
bool arg_i32(
    struct cli_state *cli, const char *flag, const char *text, int32_t *out);
bool arg_double(
    struct cli_state *cli, const char *flag, const char *text, double *out);
bool arg_id(struct cli_state *cli, const char *text, uint64_t *id);

/* cli_positional checks the count of positional arguments, between min
 * and max (max < 0: any), and reports a usage error otherwise. */
bool cli_positional(struct cli_state *cli, int min, int max, const char *what);

/* read_file reads all of path ("-": standard input) into *buf (malloc,
 * NUL-terminated, the NUL not counted in *len). Reports errors itself. */
bool read_file(const char *path, uint8_t **buf, size_t *len);

/* output.c */
void fmt_time(int64_t ms, char *buf, size_t len); /* ISO-8601 UTC */
void fmt_duration(int64_t ms, char *buf, size_t len);
void print_bytes(FILE *f, const uint8_t *p, size_t n);
void print_task(const cairn_task *t);
void print_task_table(cairn_task *const *tasks, size_t n, bool header);
void print_stats_table(const cairn_queue_stats *s, size_t n);
void print_events_table(const cairn_event *e, size_t n);
struct json;
void json_task(struct json *j, const cairn_task *t);
void json_stats(struct json *j, const cairn_queue_stats *s);
void json_event(struct json *j, const cairn_event *e);

/* The commands, each defined next to its code. */
extern const struct cli_cmd cli_cmd_enqueue, cli_cmd_lease, cli_cmd_heartbeat,
    cli_cmd_complete, cli_cmd_fail, cli_cmd_cancel, cli_cmd_retry, cli_cmd_get,
    cli_cmd_list, cli_cmd_stats, cli_cmd_await, cli_cmd_history, cli_cmd_ping;

/* cmd_ops.c */
extern const struct cli_cmd cli_cmd_shellwork, cli_cmd_backup;

#endif /* CAIRN_CLI_H */
