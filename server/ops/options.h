/*
 * ops/options.h - cairnd's configuration: the config file, then
 * environment variables, then command-line flags, each named after the
 * flag (--max-batch is CAIRN_MAX_BATCH), and the defaults for what none of
 * them sets. Each default lives in one place, the options table of
 * options.c; the modules that keep a fallback of their own for callers
 * that leave a field at 0 (the engine, rpc) read it with
 * options_defaults.
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
	const char *pg_schema;   /* PostgreSQL schema; NULL: "cairn" */
	const char *durability;  /* "full" or "normal-unsafe" */
	const char *checkpoints; /* SQLite: "cairnd" or "external" */
	int64_t retention_ms;
	int64_t max_wait_ms;
	int64_t disconnect_grace_ms; /* leases bound to a closed connection */
	int64_t max_message;
	int64_t max_payload;
	int64_t
	    max_batch; /* tasks per Enqueue or batch (rpc's max_batch_tasks) */
	int64_t max_log_entries; /* log entries per workflow run */
	int64_t contexts;
	int64_t max_parked; /* parked long-polls; default 3/4 of contexts */
	int64_t send_timeout_ms;
	const char *token_file; /* NULL: no auth */
	const char *tls_cert;
	const char *tls_key;
	const char *tls_ca;
	const char *log_level;
	const char *log_format;
	const char *http;       /* HOST:PORT of /metrics etc.; NULL: off */
	const char *ui;         /* the dashboard: on, read-only or off */
	const char *config;     /* the config file read (config.c) */
	const char *backup_dir; /* where Backup writes; NULL: the store's */
	bool read_only;         /* serve a copy without writing to it */
	bool check_config;      /* validate, print, exit */
	bool help;
	bool version;
};

/* options_defaults fills o with the defaults alone. */
void options_defaults(struct options *o);

/* options_parse fills o from the config file, the environment and argv,
 * and from the defaults for the rest. Returns
 * 0, or -1 with a one-line message in err. Strings point into argv or the
 * environment. */
int options_parse(
    struct options *o, int argc, char **argv, char *err, size_t errlen);

/* options_set applies one option by name (without "--"), as read from
 * a config file; from names the place for messages. The value must live
 * as long as o. Returns 0, or -1 with a message in err. */
int options_set(struct options *o, const char *name, const char *val,
    const char *from, char *err, size_t errlen);

/* options_text writes the value of the i-th option as text into buf and
 * sets *name; returns false past the last option. buf is "" when the
 * option is unset, a flag, or "listen" (a list: read o->listen). */
bool options_text(const struct options *o, size_t i, const char **name,
    char *buf, size_t len);

/* options_usage writes the --help text to f. */
void options_usage(void *f);

#endif /* CAIRN_OPTIONS_H */
