/*
 * metrics.c - reads the engine's commit counters from cairnd's /metrics
 * (Prometheus text over HTTP/1.0), so that the report can say how many
 * requests shared each commit. A plain socket: one GET, bounded in time.
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "bench.h"

#define METRICS_MAX (1 << 20)

/* Names the counters may have: the commit batch-size histogram gives both
 * (its _count is commits, its _sum operations); plain counters else. */
static const char *const commit_names[] = {
	"cairn_commit_batch_size_count",
	"cairn_engine_commit_batch_size_count",
	"cairn_commits_total",
	"cairn_engine_commits_total",
};
static const char *const op_names[] = {
	"cairn_commit_batch_size_sum",
	"cairn_engine_commit_batch_size_sum",
	"cairn_engine_ops_total",
	"cairn_commit_ops_total",
};

/* http_get fetches url into a NUL-terminated buffer (caller frees). */
static char *
http_get(const char *url)
{
	char host[128], port[16], path[256], req[512];
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	struct timeval tv = { 2, 0 };
	size_t len = 0;
	char *buf = NULL;
	int fd = -1;

	if (sscanf(url, "http://%127[^:/]:%15[0-9]%255s", host, port, path)
	    != 3) {
		return (NULL);
	}
	if (getaddrinfo(host, port, &hints, &ai) != 0) {
		return (NULL);
	}
	if ((fd = socket(ai->ai_family, SOCK_STREAM, 0)) < 0) {
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		goto out;
	}
	int n = snprintf(req, sizeof(req),
	    "GET %s HTTP/1.0\r\nHost: %s:%s\r\nConnection: close\r\n\r\n",
	    path, host, port);
	if (write(fd, req, (size_t) n) != n
	    || (buf = malloc(METRICS_MAX + 1)) == NULL) {
		goto out;
	}
	for (;;) {
		ssize_t got = read(fd, buf + len, METRICS_MAX - len);
		if (got <= 0) {
			break;
		}
		len += (size_t) got;
	}
	buf[len] = 0;
out:
	if (fd >= 0) {
		close(fd);
	}
	freeaddrinfo(ai);
	return (buf);
}

/* sum_of adds the samples of metric name (every label set) in text;
 * returns false when there is none. */
static bool
sum_of(const char *text, const char *name, double *out)
{
	size_t nlen = strlen(name);
	bool found = false;
	double sum = 0;

	for (const char *p = text; p != NULL && *p != 0;) {
		const char *eol = strchr(p, '\n');
		if (strncmp(p, name, nlen) == 0
		    && (p[nlen] == ' ' || p[nlen] == '{')) {
			const char *v = p + nlen;
			if (*v == '{' && (v = strchr(v, '}')) != NULL) {
				v++;
			}
			if (v != NULL) {
				sum += strtod(v, NULL);
				found = true;
			}
		}
		p = eol != NULL ? eol + 1 : NULL;
	}
	*out = sum;
	return (found);
}

void
bench_metrics_read(const char *url, struct bench_counters *out)
{
	char *text;

	memset(out, 0, sizeof(*out));
	if (url == NULL || url[0] == 0 || (text = http_get(url)) == NULL) {
		return;
	}
	const char *body = strstr(text, "\r\n\r\n");
	body = body != NULL ? body + 4 : text;
	for (size_t i = 0; i < sizeof(commit_names) / sizeof(char *); i++) {
		if (sum_of(body, commit_names[i], &out->commits)
		    && sum_of(body, op_names[i], &out->ops)) {
			out->have = true;
			break;
		}
	}
	free(text);
}
