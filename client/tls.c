/*
 * tls.c - TLS of tls+tcp:// connections: the CAs that the server's
 * certificate must chain to, the name it must carry, and the client's own
 * certificate for servers that require one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#include <nng/supplemental/tls/tls.h>

#define SYSTEM_CA_FILE "/etc/ssl/certs/ca-certificates.crt"

static int tls_fail(int status, char *errbuf, size_t errlen, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static int
tls_fail(int status, char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errbuf != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(errbuf, errlen, fmt, ap);
		va_end(ap);
	}
	return (status);
}

/* read_pem returns the NUL-terminated contents of path, or NULL. */
static char *
read_pem(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long len;

	if (f == NULL) {
		return (NULL);
	}
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0
	    && len <= (1 << 20) && fseek(f, 0, SEEK_SET) == 0
	    && (buf = malloc((size_t) len + 1)) != NULL) {
		if (fread(buf, 1, (size_t) len, f) == (size_t) len) {
			buf[len] = 0;
		} else {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return (buf);
}

/* url_host copies the host of "tls+tcp://host:port" (brackets of an IPv6
 * address removed) into out. */
static void
url_host(const char *url, char *out, size_t len)
{
	const char *h = strstr(url, "://");
	size_t n;

	h = h != NULL ? h + 3 : url;
	if (*h == '[') {
		h++;
		n = strcspn(h, "]");
	} else {
		n = strcspn(h, ":/");
	}
	snprintf(out, len, "%.*s", (int) n, h);
}

/* own_cert loads the client's certificate and key into cfg. */
static int
own_cert(nng_tls_config *cfg, const cairn_client_options *o, char *errbuf,
    size_t errlen)
{
	char *cert = NULL, *key = NULL;
	int rv = CAIRN_OK, nrv;

	if ((o->tls_cert_file == NULL) != (o->tls_key_file == NULL)) {
		return (tls_fail(CAIRN_INVALID_ARGUMENT, errbuf, errlen,
		    "tls_cert_file and tls_key_file go together"));
	}
	if (o->tls_cert_file == NULL) {
		return (CAIRN_OK);
	}
	if ((cert = read_pem(o->tls_cert_file)) == NULL
	    || (key = read_pem(o->tls_key_file)) == NULL) {
		rv = tls_fail(CAIRN_INVALID_ARGUMENT, errbuf, errlen,
		    "cannot read the TLS certificate %s or key %s",
		    o->tls_cert_file, o->tls_key_file);
	} else if ((nrv = nng_tls_config_own_cert(cfg, cert, key, NULL))
	    != 0) {
		rv = tls_fail(CAIRN_INVALID_ARGUMENT, errbuf, errlen,
		    "%s / %s: not a certificate and its key: %s",
		    o->tls_cert_file, o->tls_key_file, nng_strerror(nrv));
	}
	if (key != NULL) {
		memset(key, 0, strlen(key)); /* a secret */
	}
	free(key);
	free(cert);
	return (rv);
}

int
cairn__tls_setup(nng_dialer d, const char *url, const cairn_client_options *o,
    char *errbuf, size_t errlen)
{
	const char *ca
	    = o->tls_ca_file != NULL ? o->tls_ca_file : SYSTEM_CA_FILE;
	nng_tls_config *cfg;
	char host[256];
	int rv;

	if (strncmp(url, "tls+", 4) != 0) {
		return (CAIRN_OK);
	}
	if ((rv = nng_tls_config_alloc(&cfg, NNG_TLS_MODE_CLIENT)) != 0) {
		return (tls_fail(cairn__status_from_nng(rv), errbuf, errlen,
		    "TLS is not available: %s", nng_strerror(rv)));
	}
	url_host(url, host, sizeof(host));
	if ((rv = nng_tls_config_ca_file(cfg, ca)) != 0) {
		rv = tls_fail(CAIRN_INVALID_ARGUMENT, errbuf, errlen,
		    "cannot load the CAs of %s: %s", ca, nng_strerror(rv));
	} else if ((rv = nng_tls_config_auth_mode(
	                cfg, NNG_TLS_AUTH_MODE_REQUIRED))
	        != 0
	    || (rv = nng_tls_config_server_name(cfg,
	            o->tls_server_name != NULL ? o->tls_server_name : host))
	        != 0) {
		rv = tls_fail(cairn__status_from_nng(rv), errbuf, errlen,
		    "cannot set up TLS: %s", nng_strerror(rv));
	} else if ((rv = own_cert(cfg, o, errbuf, errlen)) == CAIRN_OK
	    && (rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, cfg)) != 0) {
		rv = tls_fail(cairn__status_from_nng(rv), errbuf, errlen,
		    "cannot set up TLS for %s: %s", url, nng_strerror(rv));
	}
	nng_tls_config_free(cfg); /* the dialer holds its own reference */
	return (rv);
}
