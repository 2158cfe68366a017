/*
 * args.c - command-line parsing for the commands: their tables of options,
 * positional arguments, numbers and durations, the one-line error reports,
 * and reading the file an option names.
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

/* cli_opt returns the command's next option (its code in longopts), -1 at
 * the end of the options, or CLI_STOP after --help or a usage error. */
static int
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

static bool
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

static bool
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

static bool
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

static bool
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

static bool
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

/* arg_state parses the name of a task state. */
static bool
arg_state(struct cli_state *cli, const char *flag, const char *text,
    cairn_state *out)
{
	bool ok = cairn_state_parse(text, out);

	if (!ok) {
		cli->status = cli_usage(cli,
		    "%s: unknown state '%s' (pending, active, succeeded, "
		    "failed, canceled)",
		    flag, text);
	}
	return (ok);
}

/* arg_range parses an integer from f->min to f->max; a number below the
 * minimum gets a message of its own, since "from 0" would be wrong. */
static bool
arg_range(struct cli_state *cli, const char *flag, const char *text,
    const struct cli_flag *f)
{
	if (!arg_u64(cli, flag, text, f->max, f->u64)) {
		return (false);
	}
	if (*f->u64 < f->min) {
		cli->status = cli_usage(cli, "%s: from %llu to %llu", flag,
		    (unsigned long long) f->min, (unsigned long long) f->max);
		return (false);
	}
	return (true);
}

/* flag_set stores the value of the option whose code is ch (see
 * cli_parse); false after a usage error. */
static bool
flag_set(struct cli_state *cli, const struct cli_flag *flags, int ch,
    const char *text)
{
	const struct cli_flag *f = &flags[ch - OPT_FIRST_COMMAND_OPTION];
	char flag[64];

	/* The messages name the option as it is written. */
	snprintf(flag, sizeof(flag), "--%s", f->name);
	if (f->set != NULL) {
		*f->set = true;
		return (true);
	}
	if (f->text != NULL) {
		*f->text = text;
		return (true);
	}
	if (f->ms != NULL) {
		return (arg_duration(cli, flag, text, f->ms));
	}
	if (f->u64 != NULL) {
		return (arg_range(cli, flag, text, f));
	}
	if (f->u32 != NULL) {
		return (arg_u32(cli, flag, text, f->u32));
	}
	if (f->i32 != NULL) {
		return (arg_i32(cli, flag, text, f->i32));
	}
	if (f->num != NULL) {
		return (arg_double(cli, flag, text, f->num));
	}
	return (arg_state(cli, flag, text, f->state));
}

bool
cli_parse(
    struct cli_state *cli, int argc, char **argv, const struct cli_flag *flags)
{
	const struct cli_flag json_only[]
	    = { { "json", .set = &cli->json }, { NULL } };
	struct option *longopts;
	size_t n = 0;
	int ch;

	if (flags == NULL) {
		flags = json_only;
	}
	while (flags[n].name != NULL) {
		n++;
	}
	/* getopt_long wants its own table: the flags, whose codes are their
	 * indexes past OPT_FIRST_COMMAND_OPTION, then --help. */
	if ((longopts = calloc(n + 2, sizeof(*longopts))) == NULL) {
		cli->status = cli_error("out of memory");
		return (false);
	}
	for (size_t i = 0; i < n; i++) {
		longopts[i].name = flags[i].name;
		longopts[i].has_arg
		    = flags[i].set != NULL ? no_argument : required_argument;
		longopts[i].val = OPT_FIRST_COMMAND_OPTION + (int) i;
	}
	longopts[n] = (struct option) { "help", no_argument, NULL, OPT_HELP };
	while ((ch = cli_opt(cli, argc, argv, longopts)) >= 0) {
		if (!flag_set(cli, flags, ch, optarg)) {
			ch = CLI_STOP;
			break;
		}
	}
	free(longopts);
	return (ch != CLI_STOP);
}

bool
cli_task_id(struct cli_state *cli, uint64_t *id)
{
	return (cli_positional(cli, 1, 1, "task ID")
	    && arg_id(cli, cli->pos[0], id));
}

bool
cli_id_command(struct cli_state *cli, int argc, char **argv,
    const struct cli_flag *flags, uint64_t *id)
{
	return (cli_parse(cli, argc, argv, flags) && cli_task_id(cli, id)
	    && cli_connect(cli));
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
