/*
 * shellwork.h - the handler of `cairn work` (cmd_shellwork.c), which runs
 * a command per task; the command itself is in cmd_ops.c.
 */
#ifndef CAIRN_CLI_SHELLWORK_H
#define CAIRN_CLI_SHELLWORK_H

#include <stddef.h>
#include <stdint.h>

#include "cairn.h"

struct shell {
	char *path;            /* COMMAND, resolved through PATH */
	char **argv;           /* COMMAND [ARGS...], NULL-ended */
	int64_t kill_after_ms; /* SIGTERM, then SIGKILL after this */
	size_t max_output;     /* larger stdout fails the task */
};

/* shellwork_handler is the cairn_handler of `cairn work`; arg is a
 * struct shell. */
void shellwork_handler(cairn_job *job, const cairn_task *task, void *arg);

/* shellwork_resolve finds cmd as execvp would (malloc'd path), or NULL. */
char *shellwork_resolve(const char *cmd);

#endif /* CAIRN_CLI_SHELLWORK_H */
