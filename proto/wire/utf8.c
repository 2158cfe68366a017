/*
 * utf8.c - the UTF-8 rule of the wire (cairn_wire.h): the server refuses
 * strings that break it, and the CLI prints bytes that keep it as text.
 */
#include "cairn_wire.h"

size_t
cairn__utf8_seq(const uint8_t *p, size_t n)
{
	uint8_t b = p[0];
	uint32_t cp;
	size_t len;

	if (b < 0x80) {
		return (1);
	}
	if (b >= 0xc2 && b <= 0xdf) {
		len = 2;
		cp = b & 0x1f;
	} else if (b >= 0xe0 && b <= 0xef) {
		len = 3;
		cp = b & 0x0f;
	} else if (b >= 0xf0 && b <= 0xf4) {
		len = 4;
		cp = b & 0x07;
	} else {
		return (0); /* continuation byte, 0xc0, 0xc1 or >= 0xf5 */
	}
	if (n < len) {
		return (0);
	}
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80) {
			return (0);
		}
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* Overlong forms, UTF-16 surrogates and the range past Unicode. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)
	    || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
		return (0);
	}
	return (len);
}

bool
cairn__utf8_valid(const void *p, size_t n)
{
	const uint8_t *s = p;
	size_t i = 0;

	while (i < n) {
		size_t len = cairn__utf8_seq(s + i, n - i);
		if (len == 0) {
			return (false);
		}
		i += len;
	}
	return (true);
}
