/*
 * args.c - command-line parsing for the commands: options, positional
 * arguments, numbers and durations, and the one-line error reports.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *
option_name(const struct option *longopts, int val, char **argv, int at)
{
	for (const struct option *o = longopts; o->name != NULL; o++) {
		if (o->val == val) {
			return (o->name);
		}
	}
	return (at > 0 ? argv[at] : "?");
}

int
cli_opt(struct cli_state *cli, int argc, char **argv,
    const struct option *longopts)
{
	int ch;

	/* "-" returns positional arguments in order (as 1), whatever
	 * POSIXLY_CORRECT says, so options may follow them; ":" reports a
	 * missing value apart from an unknown option. */
	while ((ch = getopt_long(argc, argv, "-:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 1:
			cli->pos[cli->npos++] = optarg;
			break;
		case OPT_JSON:
			cli->json = true;
			break;
		case 'h':
		case OPT_HELP:
			fputs(cli->cmd->help, stdout);
			cli->status = EXIT_OK;
			return (CLI_STOP);
		case ':':
			cli->status = cli_usage(cli,
			    "option '--%s' needs a value",
			    option_name(longopts, optopt, argv, optind - 1));
			return (CLI_STOP);
		case '?':
			if (optopt != 0 && optopt < 256) {
				cli->status = cli_usage(
				    cli, "unknown option '-%c'", optopt);
			} else {
				cli->status = cli_usage(cli,
				    "unknown option '%s'", argv[optind - 1]);
			}
			return (CLI_STOP);
		default:
			return (ch);
		}
	}
	/* Whatever follows "--" is positional. */
	while (optind < argc) {
		cli->pos[cli->npos++] = argv[optind++];
	}
	return (-1);
}

int
cli_usage(struct cli_state *cli, const char *fmt, ...)
{
	va_list ap;

	fputs("cairn: ", stderr);
	if (cli->cmd != NULL) {
		fprintf(stderr, "%s: ", cli->cmd->name);
	}
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (cli->cmd != NULL) {
		fprintf(stderr, "; see 'cairn %s --help'\n", cli->cmd->name);
	} else {
		fputs("; see 'cairn --help'\n", stderr);
	}
	return (EXIT_USAGE);
}

int
cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("cairn: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return (EXIT_CALL);
}

int
cli_call_failed(struct cli_state *cli, int status)
{
	const char *msg = cairn_client_errmsg(cli->client);

	/* One line, whatever the server put in its message. */
	fprintf(stderr, "cairn: %s: ", cairn_strerror(status));
	for (const char *p = msg; *p != '\0'; p++) {
		fputc(*p == '\n' || *p == '\r' ? ' ' : *p, stderr);
	}
	fputc('\n', stderr);
	return (EXIT_CALL);
}

bool
cli_positional(struct cli_state *cli, int min, int max, const char *what)
{
	if (cli->npos < min) {
		cli->status = cli_usage(cli, "missing %s", what);
		return (false);
	}
	if (max >= 0 && cli->npos > max) {
		cli->status = cli_usage(
		    cli, "unexpected argument '%s'", cli->pos[max]);
		return (false);
	}
	return (true);
}

bool
arg_duration(
    struct cli_state *cli, const char *flag, const char *text, int64_t *ms)
{
	if (!cairn_parse_duration(text, ms)) {
		cli->status = cli_usage(cli,
		    "%s: '%s' is not a duration like 500ms, 30s, 5m or 2h",
		    flag, text);
		return (false);
	}
	return (true);
}

bool
arg_u64(struct cli_state *cli, const char *flag, const char *text,
    uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	/* strtoull would take "-1" as a huge number, and " 1" or "+1". */
	if (!isdigit((unsigned char) text[0])) {
		goto bad;
	}
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0' || v > max) {
		goto bad;
	}
	*out = v;
	return (true);
bad:
	cli->status
	    = cli_usage(cli, "%s: '%s' is not an integer from 0 to %llu", flag,
	        text, (unsigned long long) max);
	return (false);
}

bool
arg_u32(
    struct cli_state *cli, const char *flag, const char *text, uint32_t *out)
{
	uint64_t v;

	if (!arg_u64(cli, flag, text, UINT32_MAX, &v)) {
		return (false);
	}
	*out = (uint32_t) v;
	return (true);
}

bool
arg_i32(
    struct cli_state *cli, const char *flag, const char *text, int32_t *out)
{
	long long v;
	char *end;
	const char *digits = text[0] == '-' ? text + 1 : text;

	if (!isdigit((unsigned char) digits[0])) {
		goto bad;
	}
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno != 0 || *end != '\0' || v < INT32_MIN || v > INT32_MAX) {
		goto bad;
	}
	*out = (int32_t) v;
	return (true);
bad:
	cli->status
	    = cli_usage(cli, "%s: '%s' is not a 32-bit integer", flag, text);
	return (false);
}

bool
arg_double(
    struct cli_state *cli, const char *flag, const char *text, double *out)
{
	double v;
	char *end;

	if (!isdigit((unsigned char) text[0]) && text[0] != '.') {
		goto bad;
	}
	errno = 0;
	v = strtod(text, &end);
	if (errno != 0 || *end != '\0' || !isfinite(v) || v < 0) {
		goto bad;
	}
	*out = v;
	return (true);
bad:
	cli->status = cli_usage(
	    cli, "%s: '%s' is not a non-negative number", flag, text);
	return (false);
}

bool
arg_id(struct cli_state *cli, const char *text, uint64_t *id)
{
	unsigned long long v;
	char *end;

	errno = 0;
	if (isdigit((unsigned char) text[0])) {
		v = strtoull(text, &end, 10);
		if (errno == 0 && *end == '\0' && v > 0) {
			*id = v;
			return (true);
		}
	}
	cli->status = cli_usage(
	    cli, "'%s' is not a task id (a positive integer)", text);
	return (false);
}

bool
read_file(const char *path, uint8_t **buf, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	const char *name = f == stdin ? "standard input" : path;
	uint8_t *p = NULL;
	size_t n = 0;
	size_t cap = 0;

	if (f == NULL) {
		cli_error("cannot open %s: %s", path, strerror(errno));
		return (false);
	}
	for (;;) {
		if (cap - n < 4096) {
			size_t ncap = cap == 0 ? 65536 : cap * 2;
			uint8_t *np = realloc(p, ncap + 1);
			if (np == NULL) {
				cli_error("%s: out of memory", name);
				goto fail;
			}
			p = np;
			cap = ncap;
		}
		size_t got = fread(p + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			break;
		}
	}
	if (ferror(f)) {
		cli_error("cannot read %s: %s", name, strerror(errno));
		goto fail;
	}
	if (f != stdin) {
		fclose(f);
	}
	p[n] = '\0';
	*buf = p;
	*len = n;
	return (true);
fail:
	if (f != stdin) {
		fclose(f);
	}
	free(p);
	return (false);
}

/* Options of the commands that take only --json and --help. */
const struct option cli_plain_opts[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

bool
cli_id_command(struct cli_state *cli, int argc, char **argv, uint64_t *id)
{
	int ch;

	while ((ch = cli_opt(cli, argc, argv, cli_plain_opts)) >= 0) { }
	if (ch == CLI_STOP || !cli_positional(cli, 1, 1, "task ID")
	    || !arg_id(cli, cli->pos[0], id)) {
		return (false);
	}
	cli->status = cli_connect(cli);
	return (cli->status == EXIT_OK);
}
