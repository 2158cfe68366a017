/*
 * cairn_json.h - a small streaming JSON writer, with the base64 and UTF-8
 * helpers it needs for bytes fields: the CLI's --json output and the
 * server's HTTP API (server/ops/api.c) write the same field names and
 * the same forms of bytes with it.
 *
 * The writer places commas and escapes strings; the caller states the
 * structure (begin/end, key, value) and must keep it well formed. Output
 * is compact, one document per json_init.
 */
#ifndef CAIRN_JSON_H
#define CAIRN_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json {
	FILE *f;
	int depth;
	bool after_key;                    /* a value completes a member */
	bool has_item[JSON_MAX_DEPTH + 1]; /* per level: comma needed */
};

void json_init(struct json *j, FILE *f);
void json_begin_object(struct json *j);
void json_end_object(struct json *j);
void json_begin_array(struct json *j);
void json_end_array(struct json *j);
void json_key(struct json *j, const char *key);

/* json_string writes s escaped (NULL gives null). Bytes that are not UTF-8
 * become U+FFFD, so the output is always valid JSON. */
void json_string(struct json *j, const char *s);
void json_stringn(struct json *j, const char *s, size_t n);
void json_int(struct json *j, int64_t v);
void json_uint(struct json *j, uint64_t v);
void json_double(struct json *j, double v); /* NaN and infinities: null */
void json_bool(struct json *j, bool v);
void json_null(struct json *j);

/* Members: json_key followed by the value. */
void json_kv_string(struct json *j, const char *key, const char *s);
void json_kv_int(struct json *j, const char *key, int64_t v);
void json_kv_uint(struct json *j, const char *key, uint64_t v);
void json_kv_bool(struct json *j, const char *key, bool v);

/*
 * json_kv_bytes writes a bytes field: "field": "text" when the bytes are
 * valid UTF-8, otherwise "field_base64": "..." (standard alphabet, with
 * padding).
 */
void json_kv_bytes(
    struct json *j, const char *field, const uint8_t *p, size_t n);

/* json_end finishes the document with a newline. */
void json_end(struct json *j);

/* The document most commands print is one object: json_begin_doc is
 * json_init and json_begin_object, json_end_doc json_end_object and
 * json_end. */
void json_begin_doc(struct json *j, FILE *f);
void json_end_doc(struct json *j);

/* base64_len is the length of the encoding of n bytes, without the NUL. */
size_t base64_len(size_t n);

/* base64_encode writes the encoding of in[0..n) and a NUL to out, which
 * holds base64_len(n) + 1 bytes; returns the length written. */
size_t base64_encode(const uint8_t *in, size_t n, char *out);

#endif /* CAIRN_JSON_H */
