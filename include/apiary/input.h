/* SPDX-License-Identifier: MIT */
/*
 * The one input format: an event sequence (packets at hooks, an optional
 * update event) plus the ordering choice. apiary-check builds them from z3
 * models, apiary-fuzz mutates their encoding, --replay decodes it.
 *
 * Encoding (version 1, little endian), also documented in fuzz/README.md:
 *   u8  magic 'A'
 *   u8  version (1)
 *   u8  ordering index (taken modulo the number of orderings explored)
 *   u8  update_at: index of the event before which the update happens;
 *       0xff = no update
 *   then events until the end of the buffer, each:
 *     u8  hook id (APIARY_HOOK_ID_*, taken modulo 3, +1)
 *     u16 length (clamped to what remains)
 *     length bytes of frame (Ethernet first)
 * At most APIARY_INPUT_MAX_EVENTS events; frames shorter than 14 bytes are
 * padded with zeros (XDP test_run needs an Ethernet header).
 */
#ifndef APIARY_INPUT_H
#define APIARY_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "apiary/spec.h"

#define APIARY_INPUT_MAGIC 'A'
#define APIARY_INPUT_VERSION 1
#define APIARY_INPUT_MAX_EVENTS 16
#define APIARY_INPUT_MAX_FRAME 1514
#define APIARY_INPUT_NO_UPDATE 0xff

struct apiary_event {
	enum apiary_hook hook;
	uint16_t len;
	uint8_t data[APIARY_INPUT_MAX_FRAME];
};

struct apiary_input {
	uint8_t ordering;
	uint8_t update_at;
	size_t nevents;
	struct apiary_event events[APIARY_INPUT_MAX_EVENTS];
};

/* Decode; lenient by design (every byte string decodes to some input, so a
 * fuzzer never wastes executions), but returns -EINVAL for a wrong
 * magic/version so --replay can tell the user. */
int apiary_input_decode(const uint8_t *buf, size_t len, struct apiary_input *in);

/* Encode into buf; returns the length, or -ENOSPC if size is too small. */
long apiary_input_encode(const struct apiary_input *in, uint8_t *buf, size_t size);

/* Lowercase hex of n bytes ("" for n == 0); malloc'd, NULL on failure. */
char *apiary_hex(const uint8_t *p, size_t n);
/* Parse hex into out: the byte count, -EINVAL for odd length or a non-hex
 * character, -ENOSPC if it does not fit. */
long apiary_unhex(const char *hex, uint8_t *out, size_t size);

/* Hex text form for replay commands (`--replay 41010...`). Returns a malloc'd
 * string. */
char *apiary_input_to_hex(const struct apiary_input *in);
int apiary_input_from_hex(const char *hex, struct apiary_input *in);

#endif
