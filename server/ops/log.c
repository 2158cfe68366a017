/*
 * ops/log.c - one line per event on stderr. Lines are formatted whole and
 * written with one call, so that lines from threads never interleave.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ops/log.h"

static enum log_level threshold = LOG_INFO;
static bool json;

static const char *const names[] = { "debug", "info", "warn", "error" };

int
log_setup(const char *level, const char *format)
{
	int found = -1;

	for (int i = 0; level != NULL && i <= LOG_ERROR; i++) {
		if (strcmp(level, names[i]) == 0) {
			found = i;
		}
	}
	if (level != NULL && found < 0) {
		return (-1);
	}
	if (format != NULL && strcmp(format, "text") != 0
	    && strcmp(format, "json") != 0) {
		return (-1);
	}
	if (found >= 0) {
		threshold = (enum log_level) found;
	}
	if (format != NULL) {
		json = strcmp(format, "json") == 0;
	}
	return (0);
}

bool
log_enabled(enum log_level level)
{
	return (level >= threshold);
}

/* json_escape copies src into dst as the inside of a JSON string. */
static size_t
json_escape(char *dst, size_t cap, const char *src)
{
	size_t o = 0;

	for (; *src != 0 && o + 7 < cap; src++) {
		unsigned char c = (unsigned char) *src;
		if (c == '"' || c == '\\') {
			dst[o++] = '\\';
			dst[o++] = (char) c;
		} else if (c < 0x20) {
			o += (size_t) snprintf(dst + o, cap - o, "\\u%04x", c);
		} else {
			dst[o++] = (char) c;
		}
	}
	dst[o] = 0;
	return (o);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	char msg[1024], line[2300], ts[40];
	struct timespec now;
	struct tm tm;
	va_list ap;
	int n;

	if (level < threshold) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	n = (int) strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(
	    ts + n, sizeof(ts) - (size_t) n, ".%03ldZ", now.tv_nsec / 1000000);
	if (json) {
		char esc[2100];
		json_escape(esc, sizeof(esc), msg);
		n = snprintf(line, sizeof(line),
		    "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":\"%s\"}\n", ts,
		    names[level], esc);
	} else {
		n = snprintf(
		    line, sizeof(line), "%s %-5s %s\n", ts, names[level], msg);
	}
	if (n > (int) sizeof(line) - 1) {
		n = (int) sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	(void) !write(STDERR_FILENO, line, (size_t) n);
}
