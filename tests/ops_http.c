/*
 * ops_http.c - an HTTP/1.0 GET over a plain socket, bounded in time, and a
 * strict reader of the Prometheus text format for the tests.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "ops_http.h"

int
http_get(int port, const char *path, char **body)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct timeval tv = { 10, 0 };
	char req[256], *buf = NULL, *p;
	size_t len = 0, cap = 0;
	int fd, code = -1;
	ssize_t n;

	if (body != NULL) {
		*body = NULL;
	}
	a.sin_port = htons((uint16_t) port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0) {
		return (-1);
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	snprintf(req, sizeof(req),
	    "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
	if (connect(fd, (struct sockaddr *) &a, sizeof(a)) != 0
	    || write(fd, req, strlen(req)) != (ssize_t) strlen(req)) {
		close(fd);
		return (-1);
	}
	for (;;) {
		if (len + 4097 > cap) {
			cap = cap * 2 + 8192;
			if ((p = realloc(buf, cap)) == NULL) {
				break;
			}
			buf = p;
		}
		if ((n = read(fd, buf + len, cap - len - 1)) <= 0) {
			break;
		}
		len += (size_t) n;
	}
	close(fd);
	if (buf == NULL) {
		return (-1);
	}
	buf[len] = 0;
	if (sscanf(buf, "HTTP/1.%*d %d", &code) != 1) {
		code = -1;
	}
	if (body != NULL && (p = strstr(buf, "\r\n\r\n")) != NULL) {
		*body = strdup(p + 4);
	}
	free(buf);
	return (code);
}

static bool
name_ok(const char **s)
{
	const char *p = *s;

	if (!(isalpha((unsigned char) *p) || *p == '_' || *p == ':')) {
		return (false);
	}
	while (isalnum((unsigned char) *p) || *p == '_' || *p == ':') {
		p++;
	}
	*s = p;
	return (true);
}

/* labels_ok reads {k="v",...}, with \\, \" and \n escapes. */
static bool
labels_ok(const char **s)
{
	const char *p = *s;

	if (*p != '{') {
		return (true);
	}
	p++;
	while (*p != '}') {
		if (!name_ok(&p) || *p++ != '=' || *p++ != '"') {
			return (false);
		}
		while (*p != '"') {
			if (*p == 0 || *p == '\n') {
				return (false);
			}
			if (*p == '\\'
			    && (p[1] == '\\' || p[1] == '"' || p[1] == 'n')) {
				p++;
			}
			p++;
		}
		p++;
		if (*p == ',') {
			p++;
		} else if (*p != '}') {
			return (false);
		}
	}
	*s = p + 1;
	return (true);
}

static bool
sample_ok(const char *line)
{
	const char *p = line;
	char *end;

	if (!name_ok(&p) || !labels_ok(&p) || *p++ != ' ') {
		return (false);
	}
	if (strncmp(p, "+Inf", 4) == 0 || strncmp(p, "NaN", 3) == 0) {
		return (true);
	}
	strtod(p, &end);
	return (end != p && (*end == 0 || *end == ' '));
}

const char *
prom_check(const char *text)
{
	static char bad[200];
	const char *line = text;

	while (*line != 0) {
		const char *nl = strchr(line, '\n');
		size_t n = nl != NULL ? (size_t) (nl - line) : strlen(line);
		char buf[1024];
		snprintf(buf, sizeof(buf), "%.*s", (int) n, line);
		bool ok = true;
		if (strncmp(buf, "# TYPE ", 7) == 0) {
			const char *t = strrchr(buf, ' ') + 1;
			ok = strcmp(t, "counter") == 0
			    || strcmp(t, "gauge") == 0
			    || strcmp(t, "histogram") == 0;
		} else if (buf[0] != '#' && n > 0) {
			ok = sample_ok(buf);
		}
		if (!ok || nl == NULL) {
			snprintf(bad, sizeof(bad), "%.150s%s", ok ? "" : buf,
			    ok ? "no newline at the end" : "");
			return (bad);
		}
		line = nl + 1;
	}
	return (NULL);
}

bool
prom_value(const char *text, const char *series, double *v)
{
	size_t n = strlen(series);

	for (const char *p = text; p != NULL && *p != 0;) {
		if (strncmp(p, series, n) == 0 && p[n] == ' ') {
			*v = strtod(p + n + 1, NULL);
			return (true);
		}
		p = strchr(p, '\n');
		p = p != NULL ? p + 1 : NULL;
	}
	return (false);
}
