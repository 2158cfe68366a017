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

struct json;

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

/* Returned by an option loop when the program must exit with
 * cli->status. */
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
	int status; /* set with CLI_STOP, or a false return */

	/* Positional arguments of the command being parsed. */
	char **pos;
	int npos;
};

/*
 * A command's options are a table of struct cli_flag, ending with { NULL },
 * each naming a long option and the variable its value goes to, as in
 * { "wait", .ms = &wait }. Exactly one pointer is set; its type says how
 * the value is read, and lets the compiler check the variable's.
 */
struct cli_flag {
	const char *name;   /* without the leading "--" */
	bool *set;          /* takes no value: set to true */
	const char **text;  /* the value as given */
	int64_t *ms;        /* a duration: 500ms, 30s, 5m, 2h */
	uint64_t *u64;      /* an integer from min to max */
	uint64_t min, max;  /* (u64 only) */
	uint32_t *u32;      /* a 32-bit unsigned integer */
	int32_t *i32;       /* a 32-bit integer */
	double *num;        /* a number, not negative */
	cairn_state *state; /* a task state's name */
};

/*
 * cli_parse reads the command's options into the variables of flags, each
 * as it comes, so that the first bad one is the one reported, and collects
 * the positional arguments in cli->pos. flags NULL: the only option is
 * --json. --help and -h print the command's help. False when the command
 * must end now with cli->status: 0 after --help, 2 after a usage error
 * (already reported).
 */
bool cli_parse(struct cli_state *cli, int argc, char **argv,
    const struct cli_flag *flags);

/* cli_usage reports a usage error in one line and returns EXIT_USAGE. */
int cli_usage(struct cli_state *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* cli_task_id reads the one positional argument, a task ID; false after
 * a usage error, with cli->status set. */
bool cli_task_id(struct cli_state *cli, uint64_t *id);

/* cli_id_command parses `CMD ID [OPTIONS]` (flags as in cli_parse) and
 * connects; false when the command must end now with cli->status. */
bool cli_id_command(struct cli_state *cli, int argc, char **argv,
    const struct cli_flag *flags, uint64_t *id);

/* cli_error reports a failure in one line and returns EXIT_CALL. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* cli_call_failed reports the failed call's status and message. */
int cli_call_failed(struct cli_state *cli, int status);

/* cli_connect opens cli->client; on failure it reports, sets cli->status
 * to EXIT_CALL and returns false. */
bool cli_connect(struct cli_state *cli);

/* arg_duration parses a duration given to flag; on error it reports a
 * usage error naming the flag and returns false. */
bool arg_duration(
    struct cli_state *cli, const char *flag, const char *text, int64_t *ms);

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
/* "key:   value" lines of print_task, for the other records shown so. */
void line(const char *key, const char *value);
void line_time(const char *key, int64_t ms);
void line_bytes(const char *key, const uint8_t *p, size_t n);
void print_task(const cairn_task *t);
void print_task_table(cairn_task *const *tasks, size_t n, bool header);
/* print_stats_table shows the limits of each queue among the nq of q. */
void print_stats_table(const cairn_queue_stats *s, size_t n,
    const cairn_queue_settings *q, size_t nq);
void print_events_table(const cairn_event *e, size_t n);
void json_task(struct json *j, const cairn_task *t);
/* json_stats adds "settings" when the queue has some among the nq of q. */
void json_stats(struct json *j, const cairn_queue_stats *s,
    const cairn_queue_settings *q, size_t nq);
void json_event(struct json *j, const cairn_event *e);

/* The commands, each defined next to its code. */
extern const struct cli_cmd cli_cmd_enqueue, cli_cmd_lease, cli_cmd_heartbeat,
    cli_cmd_complete, cli_cmd_fail, cli_cmd_release, cli_cmd_cancel,
    cli_cmd_retry, cli_cmd_get, cli_cmd_list, cli_cmd_stats, cli_cmd_await,
    cli_cmd_history, cli_cmd_ping, cli_cmd_schedule;

/* cmd_queue.c: the command, and the settings' output that stats shows
 * too (fmt_limits: "paused max_active=3 rate=5/1s burst=5", "-" for
 * none or NULL). */
extern const struct cli_cmd cli_cmd_queue;
void fmt_limits(const cairn_queue_settings *q, char *buf, size_t len);
void json_queue_settings(struct json *j, const cairn_queue_settings *q);

/* cmd_ops.c */
extern const struct cli_cmd cli_cmd_shellwork, cli_cmd_backup;

/* Workflows: cmd_workflow.c (the dispatch), cmd_wf_inspect.c, and their
 * output in wf_output.c. */
extern const struct cli_cmd cli_cmd_workflow, cli_wf_list, cli_wf_history;
bool wf_run_named(struct cli_state *cli, const char *workflow_id, int npos,
    const char *what, uint64_t *run_id, const char **wfid);
void print_run(const cairn_workflow_run *r);
void print_run_table(cairn_workflow_run *const *runs, size_t n, bool header);
void print_history(const cairn_workflow_run *r, const cairn_wf_entry *e,
    size_t n, bool header);
void json_run(struct json *j, const cairn_workflow_run *r);
void json_entry(struct json *j, const cairn_wf_entry *e);

#endif /* CAIRN_CLI_H */
