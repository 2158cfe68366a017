/*
 * options.h - cairnd's configuration: defaults, then environment
 * variables, then command-line flags, each named after the flag
 * (--max-batch is CAIRN_MAX_BATCH).
 */
#ifndef CAIRN_OPTIONS_H
#define CAIRN_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OPTIONS_MAX_LISTEN 16

struct options {
	const char *listen[OPTIONS_MAX_LISTEN];
	size_t nlisten;
	const char *store;
	const char *durability; /* "full" or "normal-unsafe" */
	int64_t retention_ms;
	int64_t max_wait_ms;
	int64_t max_message;
	int64_t max_payload;
	int64_t max_batch;
	int64_t contexts;
	const char *log_level;
	const char *log_format;
	bool help;
	bool version;
};

/* options_parse fills o from defaults, the environment and argv. Returns
 * 0, or -1 with a one-line message in err. Strings point into argv or the
 * environment. */
int options_parse(struct options *o, int argc, char **argv, char *err,
    size_t errlen);

/* options_usage writes the --help text to f. */
void options_usage(void *f);

#endif /* CAIRN_OPTIONS_H */
