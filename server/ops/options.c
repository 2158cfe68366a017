/*
 * ops/options.c - a table of cairnd's options, read from the environment and
 * from argv. One table serves parsing, the environment and --help.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn_wire.h"
#include "ops/config.h"
#include "ops/options.h"

enum opt_kind { OPT_STR, OPT_LIST, OPT_DURATION, OPT_SIZE, OPT_INT, OPT_FLAG };

struct opt {
	const char *name; /* flag without "--"; env is CAIRN_ + upper */
	enum opt_kind kind;
	size_t offset;
	const char *def; /* the default, as it would be written; NULL: none */
	const char *arg;
	const char *help;
};

#define OFF(f) offsetof(struct options, f)

static const struct opt table[] = {
	{ "listen", OPT_LIST, OFF(listen), "tcp://127.0.0.1:7420", "URL",
	    "listen on URL (repeatable; tcp://, ipc://, tls+tcp://)\n"
	    "default tcp://127.0.0.1:7420" },
	{ "store", OPT_STR, OFF(store), "sqlite:cairn.db", "URI",
	    "sqlite:PATH (default sqlite:cairn.db) or\n"
	    "postgres://USER@HOST:PORT/DB" },
	{ "pg-schema", OPT_STR, OFF(pg_schema), "cairn", "NAME",
	    "PostgreSQL schema of Cairn's tables (default cairn)" },
	{ "durability", OPT_STR, OFF(durability), "full", "MODE",
	    "full (default): every reply follows an fsync\n"
	    "normal-unsafe: survives a crash of cairnd, but a power\n"
	    "loss may lose the last acknowledged changes" },
	{ "checkpoints", OPT_STR, OFF(checkpoints), "cairnd", "WHO",
	    "SQLite: who checkpoints the WAL. cairnd (default):\n"
	    "cairnd, passive, past 1000 frames, failures stop it;\n"
	    "external: never cairnd, not even at exit, so that\n"
	    "Litestream owns them (docs/OPERATIONS.md)" },
	{ "retention", OPT_DURATION, OFF(retention_ms), "7d", "DUR",
	    "keep finished tasks and workflow runs this long\n(default 7d)" },
	{ "max-wait", OPT_DURATION, OFF(max_wait_ms), "60s", "DUR",
	    "longest long-poll of Lease and Await (default 60s)" },
	{ "disconnect-grace", OPT_DURATION, OFF(disconnect_grace_ms), "5s",
	    "DUR",
	    "leases taken with release_on_disconnect end this long\n"
	    "after their connection closes, unless their worker\n"
	    "heartbeats again first (default 5s)" },
	{ "max-message", OPT_SIZE, OFF(max_message), "4MiB", "BYTES",
	    "largest request (default 4MiB)" },
	{ "max-payload", OPT_SIZE, OFF(max_payload), "1MiB", "BYTES",
	    "largest payload, result or details (default 1MiB)" },
	{ "max-batch", OPT_INT, OFF(max_batch), "1000", "N",
	    "most tasks in one Enqueue (default 1000)" },
	{ "max-log-entries", OPT_INT, OFF(max_log_entries), "10000", "N",
	    "most entries in one workflow run's log (default 10000)" },
	{ "contexts", OPT_INT, OFF(contexts), "1024", "N",
	    "requests in flight, long-polls included (default 1024)" },
	{ "max-parked", OPT_INT, OFF(max_parked), NULL, "N",
	    "most parked long-polls; more are refused (default 3/4\n"
	    "of --contexts, so that others are still served)" },
	{ "send-timeout", OPT_DURATION, OFF(send_timeout_ms), "10s", "DUR",
	    "drop a reply the client does not take (default 10s)" },
	{ "token-file", OPT_STR, OFF(token_file), NULL, "FILE",
	    "require a token from FILE (one per line) in every request" },
	{ "tls-cert", OPT_STR, OFF(tls_cert), NULL, "FILE",
	    "certificate (PEM) of tls+tcp:// listeners" },
	{ "tls-key", OPT_STR, OFF(tls_key), NULL, "FILE",
	    "private key (PEM) of --tls-cert" },
	{ "tls-ca", OPT_STR, OFF(tls_ca), NULL, "FILE",
	    "require client certificates signed by these CAs (PEM)" },
	{ "log-level", OPT_STR, OFF(log_level), "info", "LEVEL",
	    "debug, info (default), warn or error" },
	{ "log-format", OPT_STR, OFF(log_format), "text", "FORMAT",
	    "text (default) or json" },
	{ "http", OPT_STR, OFF(http), NULL, "HOST:PORT",
	    "serve /metrics, /healthz, /readyz and the dashboard\n"
	    "(/ui/) over HTTP (e.g. 127.0.0.1:7421; default off)" },
	{ "ui", OPT_STR, OFF(ui), "on", "MODE",
	    "the dashboard of --http: on (default), read-only (no\n"
	    "retry, cancel or signal) or off" },
	{ "backup-dir", OPT_STR, OFF(backup_dir), NULL, "DIR",
	    "where 'cairn backup NAME' writes (default: the\n"
	    "directory of the SQLite database)" },
	{ "read-only", OPT_FLAG, OFF(read_only), NULL, NULL,
	    "serve the store for inspection without ever writing\n"
	    "to it (a restored replica, a backup): reads only,\n"
	    "writes refused, no timers (docs/OPERATIONS.md)" },
	{ "config", OPT_STR, OFF(config), NULL, "FILE",
	    "read options from FILE first (key = value lines,\n"
	    "keys named as the flags; see docs/OPERATIONS.md)" },
	{ "check-config", OPT_FLAG, OFF(check_config), NULL, NULL,
	    "check the options, print them (no secrets), exit\n"
	    "0 when they are valid, 2 when not" },
	{ "help", OPT_FLAG, OFF(help), NULL, NULL, "print this help" },
	{ "version", OPT_FLAG, OFF(version), NULL, NULL, "print the version" },
};

#define NOPTS (sizeof(table) / sizeof(table[0]))

static int
parse_size(const char *s, int64_t *out)
{
	char *end;

	if (!isdigit((unsigned char) s[0])) {
		return (-1);
	}
	errno = 0;
	long long v = strtoll(s, &end, 10);
	int64_t scale = 1;
	if (strcmp(end, "KiB") == 0 || strcmp(end, "k") == 0) {
		scale = 1024;
	} else if (strcmp(end, "MiB") == 0 || strcmp(end, "m") == 0) {
		scale = 1024 * 1024;
	} else if (strcmp(end, "GiB") == 0 || strcmp(end, "g") == 0) {
		scale = 1024 * 1024 * 1024;
	} else if (*end != 0) {
		return (-1);
	}
	if (errno != 0 || v <= 0 || v > INT32_MAX / scale * 4) {
		return (-1);
	}
	*out = v * scale;
	return (0);
}

/* set applies one value to o; returns -1 with a message on a bad one. */
static int
set(struct options *o, const struct opt *p, const char *val, const char *from,
    char *err, size_t errlen)
{
	char *base = (char *) o + p->offset;
	int64_t n;
	char *end;

	switch (p->kind) {
	case OPT_STR:
		*(const char **) base = val;
		return (0);
	case OPT_LIST:
		if (o->nlisten == OPTIONS_MAX_LISTEN) {
			snprintf(err, errlen, "%s: at most %d addresses", from,
			    OPTIONS_MAX_LISTEN);
			return (-1);
		}
		o->listen[o->nlisten++] = val;
		return (0);
	case OPT_DURATION:
		if (!cairn_parse_duration(val, (int64_t *) (void *) base)) {
			snprintf(err, errlen,
			    "%s: '%s' is not a duration (like 500ms, 30s, 5m, "
			    "7d)",
			    from, val);
			return (-1);
		}
		return (0);
	case OPT_SIZE:
		if (parse_size(val, (int64_t *) (void *) base) != 0) {
			snprintf(err, errlen,
			    "%s: '%s' is not a size (like 65536, 512KiB, "
			    "4MiB)",
			    from, val);
			return (-1);
		}
		return (0);
	case OPT_INT:
		errno = 0;
		n = strtoll(val, &end, 10);
		if (errno != 0 || *end != 0 || end == val || n <= 0
		    || n > 1000000) {
			snprintf(err, errlen,
			    "%s: '%s' is not a number from 1 to 1000000", from,
			    val);
			return (-1);
		}
		*(int64_t *) (void *) base = n;
		return (0);
	case OPT_FLAG:
		*(bool *) (void *) base = true;
		return (0);
	}
	return (-1);
}

static int
from_env(struct options *o, char *err, size_t errlen)
{
	char env[64];

	for (size_t i = 0; i < NOPTS; i++) {
		const struct opt *p = &table[i];
		if (p->kind == OPT_FLAG) {
			continue;
		}
		int k = snprintf(env, sizeof(env), "CAIRN_%s", p->name);
		for (int j = 6; j < k; j++) {
			env[j] = env[j] == '-' ? '_' : (char) toupper(env[j]);
		}
		const char *v = getenv(env);
		if (v == NULL || v[0] == 0) {
			continue;
		}
		if (p->kind == OPT_LIST) {
			/* CAIRN_LISTEN holds one URL; flags add more. */
			o->nlisten = 0;
		}
		if (set(o, p, v, env, err, errlen) != 0) {
			return (-1);
		}
	}
	return (0);
}

/* apply_defaults sets every option whose value is unset (0, NULL, no
 * address) to its default, through the same parser as a value given. A
 * duration of 0 means "the default" as on the wire. */
static void
apply_defaults(struct options *o)
{
	char err[128];

	for (size_t i = 0; i < NOPTS; i++) {
		const struct opt *p = &table[i];
		const char *base = (const char *) o + p->offset;
		bool unset = p->kind == OPT_LIST ? o->nlisten == 0
		    : p->kind == OPT_STR
		    ? *(const char *const *) (const void *) base == NULL
		    : p->kind != OPT_FLAG
		        && *(const int64_t *) (const void *) base == 0;
		if (p->def != NULL && unset
		    && set(o, p, p->def, "default", err, sizeof(err)) != 0) {
			abort(); /* a default that does not parse: a bug */
		}
	}
	/* Parked long-polls hold contexts: leave a quarter to the others. */
	if (o->max_parked == 0) {
		o->max_parked = o->contexts * 3 / 4;
	}
}

void
options_defaults(struct options *o)
{
	memset(o, 0, sizeof(*o));
	apply_defaults(o);
}

int
options_parse(
    struct options *o, int argc, char **argv, char *err, size_t errlen)
{
	bool listen_from_flags = false;

	memset(o, 0, sizeof(*o));
	/* Lowest first: the config file, the environment, flags; then the
	 * defaults for what none of them set. */
	if (config_apply(o, argc, argv, err, errlen) != 0
	    || from_env(o, err, errlen) != 0) {
		return (-1);
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL;
		const struct opt *p = NULL;
		if (strncmp(a, "--", 2) != 0) {
			snprintf(err, errlen, "unexpected argument '%s'", a);
			return (-1);
		}
		const char *eq = strchr(a + 2, '=');
		size_t len
		    = eq != NULL ? (size_t) (eq - a - 2) : strlen(a + 2);
		for (size_t k = 0; k < NOPTS; k++) {
			if (strlen(table[k].name) == len
			    && strncmp(table[k].name, a + 2, len) == 0) {
				p = &table[k];
			}
		}
		if (p == NULL) {
			snprintf(err, errlen,
			    "unknown option '%.*s' (see --help)",
			    (int) len + 2, a);
			return (-1);
		}
		if (p->kind != OPT_FLAG) {
			val = eq != NULL ? eq + 1
			                 : (i + 1 < argc ? argv[++i] : NULL);
			if (val == NULL) {
				snprintf(err, errlen, "--%s needs a value",
				    p->name);
				return (-1);
			}
		}
		if (p->kind == OPT_LIST && !listen_from_flags) {
			o->nlisten = 0; /* flags replace the environment */
			listen_from_flags = true;
		}
		if (set(o, p, val, a, err, errlen) != 0) {
			return (-1);
		}
	}
	apply_defaults(o);
	if (strcmp(o->ui, "on") != 0 && strcmp(o->ui, "read-only") != 0
	    && strcmp(o->ui, "off") != 0) {
		snprintf(err, errlen, "--ui: '%s' is not on, read-only or off",
		    o->ui);
		return (-1);
	}
	if (strcmp(o->durability, "full") != 0
	    && strcmp(o->durability, "normal-unsafe") != 0) {
		snprintf(err, errlen,
		    "--durability: '%s' is not full or normal-unsafe",
		    o->durability);
		return (-1);
	}
	if (strcmp(o->checkpoints, "cairnd") != 0
	    && strcmp(o->checkpoints, "external") != 0) {
		snprintf(err, errlen,
		    "--checkpoints: '%s' is not cairnd or external",
		    o->checkpoints);
		return (-1);
	}
	if (strcmp(o->checkpoints, "external") == 0
	    && strncmp(o->store, "sqlite:", 7) != 0) {
		snprintf(err, errlen,
		    "--checkpoints external is for SQLite stores; "
		    "PostgreSQL checkpoints itself");
		return (-1);
	}
	return (0);
}

void
options_usage(void *fp)
{
	FILE *f = fp;

	fprintf(f,
	    "usage: cairnd [OPTIONS]\n\n"
	    "Cairn: a durable job-queue server. Every option can also be set\n"
	    "in the environment: --max-batch N is CAIRN_MAX_BATCH=N.\n\n");
	for (size_t i = 0; i < NOPTS; i++) {
		const struct opt *p = &table[i];
		char head[48];
		snprintf(head, sizeof(head), "--%s%s%s", p->name,
		    p->arg ? " " : "", p->arg ? p->arg : "");
		const char *h = p->help;
		fprintf(f, "  %-26s", head);
		while (*h != 0) {
			const char *nl = strchr(h, '\n');
			size_t n = nl ? (size_t) (nl - h) : strlen(h);
			fprintf(f, "%.*s\n", (int) n, h);
			h += n + (nl ? 1 : 0);
			if (*h != 0) {
				fprintf(f, "  %-26s", "");
			}
		}
	}
}

int
options_set(struct options *o, const char *name, const char *val,
    const char *from, char *err, size_t errlen)
{
	for (size_t i = 0; i < NOPTS; i++) {
		if (strcmp(table[i].name, name) == 0
		    && table[i].kind != OPT_FLAG) {
			return (set(o, &table[i], val, from, err, errlen));
		}
	}
	snprintf(err, errlen, "%s: unknown option '%s'", from, name);
	return (-1);
}

/* fmt_unit writes v as a multiple of the largest unit that divides it. */
static void
fmt_unit(char *buf, size_t len, int64_t v, const int64_t *scale,
    const char *const *unit, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (v % scale[i] == 0) {
			snprintf(buf, len, "%lld%s",
			    (long long) (v / scale[i]), unit[i]);
			return;
		}
	}
}

bool
options_text(const struct options *o, size_t i, const char **name, char *buf,
    size_t len)
{
	static const int64_t dscale[] = { 86400000, 3600000, 60000, 1000, 1 };
	static const char *const dunit[] = { "d", "h", "m", "s", "ms" };
	static const int64_t sscale[] = { 1 << 30, 1 << 20, 1 << 10, 1 };
	static const char *const sunit[] = { "GiB", "MiB", "KiB", "" };
	const char *base;
	int64_t v;

	if (i >= NOPTS) {
		return (false);
	}
	*name = table[i].name;
	base = (const char *) o + table[i].offset;
	buf[0] = 0;
	switch (table[i].kind) {
	case OPT_STR:
		snprintf(buf, len, "%s",
		    *(const char *const *) (const void *) base != NULL
		        ? *(const char *const *) (const void *) base
		        : "");
		break;
	case OPT_DURATION:
	case OPT_SIZE:
	case OPT_INT:
		v = *(const int64_t *) (const void *) base;
		if (v == 0) {
			break;
		}
		if (table[i].kind == OPT_DURATION) {
			fmt_unit(buf, len, v, dscale, dunit, 5);
		} else if (table[i].kind == OPT_SIZE) {
			fmt_unit(buf, len, v, sscale, sunit, 4);
		} else {
			snprintf(buf, len, "%lld", (long long) v);
		}
		break;
	case OPT_LIST:
	case OPT_FLAG:
		break;
	}
	return (true);
}
