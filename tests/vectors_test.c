/*
 * vectors_test.c - the shared test vectors of proto/testdata/, through the
 * protobuf-c code that libcairn and cairnd use: every envelope decodes,
 * its body decodes as its rpc's message, and both encode back to the same
 * bytes. Every rpc of service Queue has a request and a reply vector, so
 * an rpc added to the proto without regenerating the vectors fails here
 * too. The TypeScript and Go clients check the same files.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cairn.pb-c.h"

static const char *dir; /* proto/testdata */

/* read_file returns the contents of dir/name (caller frees) and its
 * length in *len. */
static uint8_t *
read_file(const char *name, size_t *len)
{
	char path[1024];
	FILE *f;
	uint8_t *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	assert_int_equal(fseek(f, 0, SEEK_SET), 0);
	buf = malloc((size_t) n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t) n, f), (size_t) n);
	fclose(f);
	*len = (size_t) n;
	return (buf);
}

/* repack packs m into a new buffer and checks that it is want. */
static void
repack(const ProtobufCMessage *m, const uint8_t *want, size_t len,
    const char *what)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(n > 0 ? n : 1);

	assert_non_null(buf);
	assert_int_equal(protobuf_c_message_pack(m, buf), n);
	/* An empty body has no data pointer at all. */
	if (n != len || (n > 0 && memcmp(buf, want, n) != 0)) {
		fail_msg("%s: re-encoded to %zu bytes unlike the %zu given",
		    what, n, len);
	}
	free(buf);
}

/* body checks that data is a whole message of type d, byte for byte. */
static void
body(const ProtobufCMessageDescriptor *d, const uint8_t *data, size_t len,
    const char *what)
{
	ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, len, data);

	if (m == NULL) {
		fail_msg("%s: the body does not decode as %s", what, d->name);
	}
	repack(m, data, len, what);
	protobuf_c_message_free_unpacked(m, NULL);
}

/* check_vector checks one NAME.bin, NAME being <Method>.<kind>[-...]. */
static void
check_vector(const char *file)
{
	const ProtobufCMethodDescriptor *md;
	char method[128];
	const char *dot = strchr(file, '.');
	uint8_t *data;
	size_t len;

	assert_non_null(dot);
	assert_true((size_t) (dot - file) < sizeof(method));
	memcpy(method, file, (size_t) (dot - file));
	method[dot - file] = 0;
	md = protobuf_c_service_descriptor_get_method_by_name(
	    &cairn__v1__queue__descriptor, method);
	if (md == NULL) {
		fail_msg("%s: service Queue has no rpc %s", file, method);
	}
	data = read_file(file, &len);
	if (strncmp(dot + 1, "request", 7) == 0) {
		Cairn__V1__Request *r
		    = cairn__v1__request__unpack(NULL, len, data);
		if (r == NULL) {
			fail_msg("%s: not a cairn.v1.Request", file);
		}
		assert_string_equal(r->method, method);
		body(md->input, r->body.data, r->body.len, file);
		repack(&r->base, data, len, file);
		cairn__v1__request__free_unpacked(r, NULL);
	} else if (strncmp(dot + 1, "reply", 5) == 0) {
		Cairn__V1__Response *r
		    = cairn__v1__response__unpack(NULL, len, data);
		if (r == NULL) {
			fail_msg("%s: not a cairn.v1.Response", file);
		}
		if (r->code == CAIRN__V1__CODE__OK) {
			body(md->output, r->body.data, r->body.len, file);
		} else {
			assert_int_equal(r->body.len, 0);
			assert_true(r->message[0] != 0);
		}
		repack(&r->base, data, len, file);
		cairn__v1__response__free_unpacked(r, NULL);
	} else {
		fail_msg("%s: neither a request nor a reply", file);
	}
	free(data);
}

static int
is_bin(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return (n > 4 && strcmp(e->d_name + n - 4, ".bin") == 0);
}

static void
every_vector_round_trips(void **state)
{
	struct dirent **names;
	int n = scandir(dir, &names, is_bin, alphasort);

	(void) state;
	assert_true(n > 0);
	for (int i = 0; i < n; i++) {
		check_vector(names[i]->d_name);
		free(names[i]);
	}
	free(names);
	print_message("checked %d vectors\n", n);
}

static void
every_rpc_has_vectors(void **state)
{
	const ProtobufCServiceDescriptor *s = &cairn__v1__queue__descriptor;
	char name[256];
	FILE *f;

	(void) state;
	for (unsigned i = 0; i < s->n_methods; i++) {
		for (int k = 0; k < 2; k++) {
			snprintf(name, sizeof(name), "%s/%s.%s.bin", dir,
			    s->methods[i].name, k == 0 ? "request" : "reply");
			if ((f = fopen(name, "rb")) == NULL) {
				fail_msg("no vector %s: run "
				         "proto/testdata/generate.py",
				    name);
			}
			fclose(f);
		}
	}
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_vector_round_trips),
		cmocka_unit_test(every_rpc_has_vectors),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: vectors_test PROTO_TESTDATA_DIR\n");
		return (2);
	}
	dir = argv[1];
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
