/*
 * ops_http.h - what the operations tests share: a plain HTTP GET and a
 * reader of the Prometheus text format (ops_http.c).
 */
#ifndef CAIRN_OPS_HTTP_H
#define CAIRN_OPS_HTTP_H

#include <stdbool.h>
#include <stddef.h>

/* http_get fetches http://127.0.0.1:port/path; returns the status code
 * (-1 when there was no answer) and the body in *body (malloc'd, NUL
 * terminated; may be NULL). */
int http_get(int port, const char *path, char **body);

/* prom_check parses an exposition: every line a comment (# HELP / # TYPE
 * with a known type) or `name{labels} value` with a valid name, well
 * quoted labels and a number. Returns NULL when it is well formed, or the
 * first bad line (a static message). */
const char *prom_check(const char *text);

/* prom_value finds the sample whose name and labels are exactly series
 * (like `cairn_tasks{queue="q",state="pending"}`) and sets *v. */
bool prom_value(const char *text, const char *series, double *v);

#endif /* CAIRN_OPS_HTTP_H */
