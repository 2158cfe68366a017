/*
 * json.c - JSON writer and base64 for the CLI and the server's HTTP API;
 * the UTF-8 rule is the wire's (cairn_wire.h).
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cairn_wire.h"
#include "cairn_json.h"

size_t
base64_len(size_t n)
{
	return ((n + 2) / 3 * 4);
}

size_t
base64_encode(const uint8_t *in, size_t n, char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                          "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;
	size_t i;

	for (i = 0; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t) in[i] << 16 | (uint32_t) in[i + 1] << 8
		    | in[i + 2];
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = tab[(v >> 6) & 63];
		out[o++] = tab[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t) in[i] << 16;
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		uint32_t v
		    = (uint32_t) in[i] << 16 | (uint32_t) in[i + 1] << 8;
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = tab[(v >> 6) & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
	return (o);
}

void
json_init(struct json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
}

/* sep writes the comma that goes before a new item, if one does. */
static void
sep(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->has_item[j->depth]) {
		fputc(',', j->f);
	}
	j->has_item[j->depth] = true;
}

static void
open_level(struct json *j, char c)
{
	sep(j);
	fputc(c, j->f);
	if (j->depth < JSON_MAX_DEPTH) {
		j->depth++;
	}
	j->has_item[j->depth] = false;
}

static void
close_level(struct json *j, char c)
{
	fputc(c, j->f);
	if (j->depth > 0) {
		j->depth--;
	}
}

void
json_begin_object(struct json *j)
{
	open_level(j, '{');
}

void
json_end_object(struct json *j)
{
	close_level(j, '}');
}

void
json_begin_array(struct json *j)
{
	open_level(j, '[');
}

void
json_end_array(struct json *j)
{
	close_level(j, ']');
}

static void
put_escaped(FILE *f, const uint8_t *s, size_t n)
{
	size_t i = 0;

	fputc('"', f);
	while (i < n) {
		uint8_t c = s[i];
		size_t len;

		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc(c, f);
		} else if (c == '\n') {
			fputs("\\n", f);
		} else if (c == '\r') {
			fputs("\\r", f);
		} else if (c == '\t') {
			fputs("\\t", f);
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
		} else if (c < 0x80) {
			fputc(c, f);
		} else if ((len = cairn__utf8_seq(s + i, n - i)) > 0) {
			fwrite(s + i, 1, len, f);
			i += len;
			continue;
		} else {
			fputs("\\ufffd", f);
		}
		i++;
	}
	fputc('"', f);
}

void
json_key(struct json *j, const char *key)
{
	sep(j);
	put_escaped(j->f, (const uint8_t *) key, strlen(key));
	fputc(':', j->f);
	j->after_key = true;
}

void
json_stringn(struct json *j, const char *s, size_t n)
{
	sep(j);
	put_escaped(j->f, (const uint8_t *) s, n);
}

void
json_string(struct json *j, const char *s)
{
	if (s == NULL) {
		json_null(j);
		return;
	}
	json_stringn(j, s, strlen(s));
}

void
json_int(struct json *j, int64_t v)
{
	sep(j);
	fprintf(j->f, "%" PRId64, v);
}

void
json_uint(struct json *j, uint64_t v)
{
	sep(j);
	fprintf(j->f, "%" PRIu64, v);
}

void
json_double(struct json *j, double v)
{
	char buf[32];

	if (!isfinite(v)) {
		json_null(j);
		return;
	}
	/* The shortest of 15 or 17 digits that reads back exactly. */
	snprintf(buf, sizeof(buf), "%.15g", v);
	if (strtod(buf, NULL) != v) {
		snprintf(buf, sizeof(buf), "%.17g", v);
	}
	sep(j);
	fputs(buf, j->f);
}

void
json_bool(struct json *j, bool v)
{
	sep(j);
	fputs(v ? "true" : "false", j->f);
}

void
json_null(struct json *j)
{
	sep(j);
	fputs("null", j->f);
}

void
json_kv_string(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	json_string(j, s);
}

void
json_kv_int(struct json *j, const char *key, int64_t v)
{
	json_key(j, key);
	json_int(j, v);
}

void
json_kv_uint(struct json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	json_uint(j, v);
}

void
json_kv_bool(struct json *j, const char *key, bool v)
{
	json_key(j, key);
	json_bool(j, v);
}

void
json_kv_bytes(struct json *j, const char *field, const uint8_t *p, size_t n)
{
	char name[128];
	char *b64;

	if (n == 0 || cairn__utf8_valid(p, n)) {
		json_key(j, field);
		json_stringn(j, (const char *) p, n);
		return;
	}
	snprintf(name, sizeof(name), "%s_base64", field);
	json_key(j, name);
	if ((b64 = malloc(base64_len(n) + 1)) == NULL) {
		json_null(j); /* keeps the document valid */
		return;
	}
	base64_encode(p, n, b64);
	json_string(j, b64);
	free(b64);
}

void
json_end(struct json *j)
{
	fputc('\n', j->f);
}

void
json_begin_doc(struct json *j, FILE *f)
{
	json_init(j, f);
	json_begin_object(j);
}

void
json_end_doc(struct json *j)
{
	json_end_object(j);
	json_end(j);
}
