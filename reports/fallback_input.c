// SPDX-License-Identifier: MIT
/*
 * Stand-ins for input.h's codec (format in input.h) while fuzz/ is a
 * placeholder. reports/meson.build compiles this file only when fuzz_lib
 * does not exist; the definitions are weak, so the real ones win.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "apiary/input.h"

__attribute__((weak)) int apiary_input_decode(const uint8_t *buf, size_t len,
					      struct apiary_input *in)
{
	size_t off = 4;

	memset(in, 0, sizeof(*in));
	if (len < 4 || buf[0] != APIARY_INPUT_MAGIC || buf[1] != APIARY_INPUT_VERSION)
		return -EINVAL;
	in->ordering = buf[2];
	in->update_at = buf[3];
	while (off < len && in->nevents < APIARY_INPUT_MAX_EVENTS) {
		struct apiary_event *ev = &in->events[in->nevents++];
		size_t n = 0;

		ev->hook = (enum apiary_hook)(buf[off++] % 3 + 1);
		if (off < len)
			n = buf[off++];
		if (off < len)
			n |= (size_t)buf[off++] << 8;
		if (n > len - off)
			n = len - off;
		if (n > APIARY_INPUT_MAX_FRAME)
			n = APIARY_INPUT_MAX_FRAME;
		memcpy(ev->data, buf + off, n);
		off += n;
		ev->len = n < 14 ? 14 : n;
	}
	return 0;
}

__attribute__((weak)) long apiary_input_encode(const struct apiary_input *in, uint8_t *buf,
					       size_t size)
{
	size_t off = 4;

	if (size < 4)
		return -ENOSPC;
	buf[0] = APIARY_INPUT_MAGIC;
	buf[1] = APIARY_INPUT_VERSION;
	buf[2] = in->ordering;
	buf[3] = in->update_at;
	for (size_t i = 0; i < in->nevents && i < APIARY_INPUT_MAX_EVENTS; i++) {
		const struct apiary_event *ev = &in->events[i];
		size_t n = ev->len > APIARY_INPUT_MAX_FRAME ? APIARY_INPUT_MAX_FRAME : ev->len;

		if (size - off < 3 + n)
			return -ENOSPC;
		buf[off++] = (uint8_t)((ev->hook + 2) % 3); /* id (h-1) mod 3, +1 => h */
		buf[off++] = n & 0xff;
		buf[off++] = n >> 8;
		memcpy(buf + off, ev->data, n);
		off += n;
	}
	return (long)off;
}

__attribute__((weak)) char *apiary_input_to_hex(const struct apiary_input *in)
{
	size_t size = 4 + APIARY_INPUT_MAX_EVENTS * (3 + APIARY_INPUT_MAX_FRAME);
	uint8_t *buf = malloc(size);
	char *hex = NULL;
	long n;

	if (!buf)
		return NULL;
	n = apiary_input_encode(in, buf, size);
	if (n >= 0)
		hex = malloc((size_t)n * 2 + 1);
	if (hex) {
		for (long i = 0; i < n; i++) {
			hex[2 * i] = "0123456789abcdef"[buf[i] >> 4];
			hex[2 * i + 1] = "0123456789abcdef"[buf[i] & 15];
		}
		hex[2 * n] = 0;
	}
	free(buf);
	return hex;
}

__attribute__((weak)) int apiary_input_from_hex(const char *hex, struct apiary_input *in)
{
	size_t n = strlen(hex) / 2;
	uint8_t *buf;
	int err;

	if (strlen(hex) % 2)
		return -EINVAL;
	buf = malloc(n ? n : 1);
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		char b[3] = { hex[2 * i], hex[2 * i + 1], 0 };
		char *end;

		buf[i] = (uint8_t)strtoul(b, &end, 16);
		if (*end) {
			free(buf);
			return -EINVAL;
		}
	}
	err = apiary_input_decode(buf, n, in);
	free(buf);
	return err;
}
