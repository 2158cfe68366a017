/*
 * ops/config.c - the config file (`key = value`), --check-config, and masking
 * of secrets in what is printed or logged.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nng/nng.h>

#include "ops/config.h"
#include "ops/log.h"
#include "ops/options.h"

#define CONFIG_MAX_BYTES (1 << 20)

/* The text of the file read last: options point into it. */
static char *loaded;

static char *
read_all(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0;

	if (f == NULL) {
		snprintf(
		    err, errlen, "--config %s: %s", path, strerror(errno));
		return (NULL);
	}
	if ((buf = malloc(CONFIG_MAX_BYTES + 1)) != NULL) {
		n = fread(buf, 1, CONFIG_MAX_BYTES + 1, f);
	}
	if (buf == NULL || ferror(f) || n > CONFIG_MAX_BYTES) {
		snprintf(err, errlen,
		    "--config %s: cannot read it (at most %d "
		    "bytes)",
		    path, CONFIG_MAX_BYTES);
		free(buf);
		fclose(f);
		return (NULL);
	}
	fclose(f);
	buf[n] = 0;
	return (buf);
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char) *s)) {
		s++;
	}
	e = s + strlen(s);
	while (e > s && isspace((unsigned char) e[-1])) {
		*--e = 0;
	}
	return (s);
}

/* apply_line applies one `key = value` line (modified in place). */
static int
apply_line(
    struct options *o, char *line, const char *where, char *err, size_t errlen)
{
	char *eq = strchr(line, '='), *key, *val;
	size_t vl;

	if (eq == NULL) {
		snprintf(err, errlen, "%s: expected 'key = value'", where);
		return (-1);
	}
	*eq = 0;
	key = trim(line);
	val = trim(eq + 1);
	for (char *k = key; *k != 0; k++) {
		*k = *k == '_' ? '-' : (char) tolower((unsigned char) *k);
	}
	vl = strlen(val);
	if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
		val[vl - 1] = 0;
		val++;
	}
	if (strcmp(key, "config") == 0 || strcmp(key, "check-config") == 0
	    || strcmp(key, "help") == 0 || strcmp(key, "version") == 0) {
		snprintf(err, errlen, "%s: '%s' is a command-line flag only",
		    where, key);
		return (-1);
	}
	return (options_set(o, key, val, where, err, errlen));
}

int
config_apply(
    struct options *o, int argc, char **argv, char *err, size_t errlen)
{
	const char *path = getenv("CAIRN_CONFIG");
	char where[300], *text, *line, *next;
	int lineno = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			path = argv[++i];
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			path = argv[i] + 9;
		}
	}
	if (path == NULL || path[0] == 0) {
		return (0);
	}
	if ((text = read_all(path, err, errlen)) == NULL) {
		return (-1);
	}
	free(loaded);
	loaded = text;
	o->config = path;
	for (line = text; line != NULL; line = next) {
		next = strchr(line, '\n');
		if (next != NULL) {
			*next++ = 0;
		}
		lineno++;
		line = trim(line);
		if (line[0] == 0 || line[0] == '#') {
			continue;
		}
		snprintf(where, sizeof(where), "%s:%d", path, lineno);
		if (apply_line(o, line, where, err, errlen) != 0) {
			return (-1);
		}
	}
	return (0);
}

static bool
one_of(const char *s, const char *const *names)
{
	for (; *names != NULL; names++) {
		if (strcmp(s, *names) == 0) {
			return (true);
		}
	}
	return (false);
}

static int
check_url(const char *what, const char *url, char *err, size_t errlen)
{
	nng_url *u;
	int rv = nng_url_parse(&u, url);

	if (rv != 0) {
		snprintf(err, errlen, "%s %s: not a valid address (%s)", what,
		    url, nng_strerror(rv));
		return (-1);
	}
	nng_url_free(u);
	return (0);
}

static int
check_file(const char *what, const char *path, char *err, size_t errlen)
{
	if (path != NULL && access(path, R_OK) != 0) {
		snprintf(
		    err, errlen, "%s %s: %s", what, path, strerror(errno));
		return (-1);
	}
	return (0);
}

int
config_check(const struct options *o, char *err, size_t errlen)
{
	static const char *const levels[]
	    = { "debug", "info", "warn", "error", NULL };
	static const char *const formats[] = { "text", "json", NULL };
	char url[300];
	struct stat st;

	if (!one_of(o->log_level, levels) || !one_of(o->log_format, formats)) {
		snprintf(err, errlen,
		    "--log-level is debug|info|warn|error and --log-format "
		    "text|json");
		return (-1);
	}
	if (!(strncmp(o->store, "sqlite:", 7) == 0 && o->store[7] != 0)
#ifdef CAIRN_WITH_POSTGRES
	    && strncmp(o->store, "postgres://", 11) != 0
	    && strncmp(o->store, "postgresql://", 13) != 0
#endif
	) {
		snprintf(err, errlen,
		    "--store: unsupported URI (expected "
		    "sqlite:PATH or postgres://...)");
		return (-1);
	}
	for (size_t i = 0; i < o->nlisten; i++) {
		if (check_url("--listen", o->listen[i], err, errlen) != 0) {
			return (-1);
		}
	}
	if (o->http != NULL) {
		snprintf(url, sizeof(url), "%s%s",
		    strncmp(o->http, "http://", 7) == 0 ? "" : "http://",
		    o->http);
		if (check_url("--http", url, err, errlen) != 0) {
			return (-1);
		}
	}
	if (o->backup_dir != NULL
	    && (stat(o->backup_dir, &st) != 0 || !S_ISDIR(st.st_mode))) {
		snprintf(err, errlen, "--backup-dir %s: not a directory",
		    o->backup_dir);
		return (-1);
	}
	return (check_file("--token-file", o->token_file, err, errlen)
	            || check_file("--tls-cert", o->tls_cert, err, errlen)
	            || check_file("--tls-key", o->tls_key, err, errlen)
	            || check_file("--tls-ca", o->tls_ca, err, errlen)
	        ? -1
	        : 0);
}

void
config_redact_uri(const char *uri, char *buf, size_t len)
{
	const char *scheme = strstr(uri, "://");
	const char *at, *colon, *pw;

	snprintf(buf, len, "%s", uri);
	if (scheme != NULL && (at = strchr(scheme + 3, '@')) != NULL
	    && (colon = memchr(scheme + 3, ':', (size_t) (at - scheme - 3)))
	        != NULL) {
		snprintf(buf, len, "%.*s:***%s", (int) (colon - uri), uri, at);
	}
	/* libpq also takes password=... as a parameter. */
	if ((pw = strstr(buf, "password=")) != NULL) {
		size_t keep = (size_t) (pw - buf) + 9;
		const char *end = pw + 9 + strcspn(pw + 9, "& ");
		char rest[256];
		snprintf(rest, sizeof(rest), "%s", end);
		snprintf(buf + keep, len - keep, "***%s", rest);
	}
}

static bool
is_secret(const char *name)
{
	size_t n = strlen(name);

	return ((n >= 5 && strcmp(name + n - 5, "token") == 0)
	    || (n >= 8 && strcmp(name + n - 8, "password") == 0));
}

void
config_print(const struct options *o, FILE *f)
{
	const char *name;
	char val[512], safe[512];

	fprintf(f, "# cairnd: effective configuration%s%s\n",
	    o->config != NULL ? "; file " : "",
	    o->config != NULL ? o->config : "");
	for (size_t i = 0; i < o->nlisten; i++) {
		fprintf(f, "listen = %s\n", o->listen[i]);
	}
	for (size_t i = 0; options_text(o, i, &name, val, sizeof(val)); i++) {
		if (strcmp(name, "listen") == 0 || strcmp(name, "config") == 0
		    || strcmp(name, "check-config") == 0
		    || strcmp(name, "help") == 0
		    || strcmp(name, "version") == 0) {
			continue;
		}
		if (val[0] == 0) {
			fprintf(f, "# %s is not set\n", name);
			continue;
		}
		if (is_secret(name)) {
			snprintf(safe, sizeof(safe), "***");
		} else {
			config_redact_uri(val, safe, sizeof(safe));
		}
		fprintf(f, "%s = %s\n", name, safe);
	}
}

int
config_check_main(const struct options *o)
{
	char err[512];
	int rv = config_check(o, err, sizeof(err));

	config_print(o, stdout);
	fflush(stdout);
	if (rv != 0) {
		fprintf(stderr, "cairnd: invalid configuration: %s\n", err);
		return (2);
	}
	fprintf(stderr, "cairnd: configuration is valid\n");
	return (0);
}

const char *
config_backup_dir(const struct options *o, char *buf, size_t len)
{
	const char *slash;

	if (o->backup_dir != NULL) {
		return (o->backup_dir);
	}
	if (strncmp(o->store, "sqlite:", 7) != 0) {
		return (NULL);
	}
	if ((slash = strrchr(o->store + 7, '/')) == NULL) {
		snprintf(buf, len, ".");
	} else if (slash == o->store + 7) {
		snprintf(buf, len, "/");
	} else {
		snprintf(buf, len, "%.*s", (int) (slash - o->store - 7),
		    o->store + 7);
	}
	/* Absolute, so that replies and logs name the file unambiguously. */
	char abs[PATH_MAX];
	if (realpath(buf, abs) != NULL) {
		snprintf(buf, len, "%s", abs);
	}
	return (buf);
}

void
config_log_start(
    const struct options *o, const char *version, const char *http)
{
	char store[512];

	config_redact_uri(o->store, store, sizeof(store));
	log_info("cairnd %s serving; store %s; durability %s%s%s%s", version,
	    store,
	    strcmp(o->durability, "full") == 0
	        ? "full (fsync before every reply)"
	        : "normal-unsafe (a power loss may lose acknowledged work)",
	    strcmp(o->checkpoints, "external") == 0
	        ? "; checkpoints external (cairnd never checkpoints the WAL)"
	        : "",
	    o->config != NULL ? "; config " : "",
	    o->config != NULL ? o->config : "");
	for (size_t i = 0; i < o->nlisten; i++) {
		log_info("listening on %s", o->listen[i]);
	}
	if (http != NULL) {
		log_info(
		    "HTTP on http://%s (/metrics, /healthz, /readyz)", http);
	}
	if (http != NULL && strcmp(o->ui, "off") != 0) {
		log_info("dashboard on http://%s/ui/%s", http,
		    strcmp(o->ui, "read-only") == 0 ? " (read-only)" : "");
	}
}
