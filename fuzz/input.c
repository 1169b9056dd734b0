// SPDX-License-Identifier: MIT
/*
 * The input format (see include/apiary/input.h): one encoding for z3 seeds,
 * fuzzers and replay. Decoding is total over byte strings after the header,
 * so a mutated input is always some valid event sequence.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "apiary/abi.h"
#include "apiary/input.h"

#define HEADER_LEN 4
#define EVENT_HEADER_LEN 3
#define MIN_FRAME 14

_Static_assert(APIARY_HOOK_XDP == APIARY_HOOK_ID_XDP, "hook ids");
_Static_assert(APIARY_HOOK_TC_INGRESS == APIARY_HOOK_ID_TC_INGRESS, "hook ids");
_Static_assert(APIARY_HOOK_TC_EGRESS == APIARY_HOOK_ID_TC_EGRESS, "hook ids");

/*
 * Map any byte to a hook, so every mutated hook byte stays meaningful:
 * 1..3 are themselves, anything else folds into the range.
 */
static enum apiary_hook hook_from_byte(uint8_t b)
{
	return (enum apiary_hook)(((b + 2) % 3) + 1);
}

int apiary_input_decode(const uint8_t *buf, size_t len, struct apiary_input *in)
{
	size_t pos = HEADER_LEN;

	memset(in, 0, offsetof(struct apiary_input, events));
	if (len < HEADER_LEN || buf[0] != APIARY_INPUT_MAGIC || buf[1] != APIARY_INPUT_VERSION)
		return -EINVAL;
	in->ordering = buf[2];
	in->update_at = buf[3];

	while (pos + EVENT_HEADER_LEN <= len && in->nevents < APIARY_INPUT_MAX_EVENTS) {
		struct apiary_event *ev = &in->events[in->nevents++];
		size_t flen = buf[pos + 1] | (size_t)buf[pos + 2] << 8;

		ev->hook = hook_from_byte(buf[pos]);
		pos += EVENT_HEADER_LEN;
		if (flen > len - pos)
			flen = len - pos;
		if (flen > APIARY_INPUT_MAX_FRAME)
			flen = APIARY_INPUT_MAX_FRAME;
		memcpy(ev->data, buf + pos, flen);
		pos += flen;
		/* test_run of XDP and tc needs at least an Ethernet header */
		if (flen < MIN_FRAME) {
			memset(ev->data + flen, 0, MIN_FRAME - flen);
			flen = MIN_FRAME;
		}
		ev->len = (uint16_t)flen;
	}
	if (in->update_at != APIARY_INPUT_NO_UPDATE && in->update_at > in->nevents)
		in->update_at = (uint8_t)in->nevents;
	return 0;
}

long apiary_input_encode(const struct apiary_input *in, uint8_t *buf, size_t size)
{
	size_t pos = HEADER_LEN;

	if (size < HEADER_LEN)
		return -ENOSPC;
	buf[0] = APIARY_INPUT_MAGIC;
	buf[1] = APIARY_INPUT_VERSION;
	buf[2] = in->ordering;
	buf[3] = in->update_at;
	for (size_t i = 0; i < in->nevents && i < APIARY_INPUT_MAX_EVENTS; i++) {
		const struct apiary_event *ev = &in->events[i];

		if (size - pos < EVENT_HEADER_LEN + (size_t)ev->len)
			return -ENOSPC;
		buf[pos] = (uint8_t)ev->hook;
		buf[pos + 1] = ev->len & 0xff;
		buf[pos + 2] = ev->len >> 8;
		memcpy(buf + pos + EVENT_HEADER_LEN, ev->data, ev->len);
		pos += EVENT_HEADER_LEN + ev->len;
	}
	return (long)pos;
}

/* Lowercase hex of n bytes; "" for n == 0. NULL on allocation failure. */
char *apiary_hex(const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char *s = malloc(n * 2 + 1);

	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		s[2 * i] = digits[p[i] >> 4];
		s[2 * i + 1] = digits[p[i] & 15];
	}
	s[n * 2] = 0;
	return s;
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parse hex into out; returns the byte count, -EINVAL for odd length or a
 * non-hex character, -ENOSPC if it does not fit. */
long apiary_unhex(const char *hex, uint8_t *out, size_t size)
{
	size_t len = strlen(hex);

	if (len % 2)
		return -EINVAL;
	if (len / 2 > size)
		return -ENOSPC;
	for (size_t i = 0; i < len / 2; i++) {
		int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (long)(len / 2);
}

char *apiary_input_to_hex(const struct apiary_input *in)
{
	size_t cap = HEADER_LEN + in->nevents * (EVENT_HEADER_LEN + APIARY_INPUT_MAX_FRAME);
	uint8_t *bin = malloc(cap);
	char *hex = NULL;
	long n;

	if (!bin)
		return NULL;
	n = apiary_input_encode(in, bin, cap);
	if (n >= 0)
		hex = apiary_hex(bin, (size_t)n);
	free(bin);
	return hex;
}

int apiary_input_from_hex(const char *hex, struct apiary_input *in)
{
	size_t size = strlen(hex) / 2;
	uint8_t *bin = malloc(size ? size : 1);
	long n;
	int err;

	if (!bin)
		return -ENOMEM;
	n = apiary_unhex(hex, bin, size);
	err = n < 0 ? (int)n : apiary_input_decode(bin, (size_t)n, in);
	free(bin);
	return err;
}
