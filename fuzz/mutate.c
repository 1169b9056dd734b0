// SPDX-License-Identifier: MIT
/*
 * Structure-aware mutation of Apiary inputs (include/apiary/input.h).
 *
 * A byte-level mutator knows nothing of event boundaries: a flipped length
 * or hook byte re-cuts the whole sequence, and inserted bytes become extra
 * events of padded zero frames, each a test run that teaches nothing
 * (libFuzzer's inputs on a one-program object averaged ~2 test runs each).
 * Here most mutations change one frame's bytes with the engine's own
 * mutator (its dictionary included) and keep every other event as it was;
 * sequences change by whole events (duplicate, delete, swap), and the
 * ordering and update point by their own bytes. Every result is in the
 * canonical encoding (frames of at least 14 bytes, as decoding pads them):
 * whatever a raw byte mutation could reach that means something, these do.
 */
#include <string.h>

#include "apiary/input.h"

#define HEADER_LEN 4
#define EVENT_HEADER_LEN 3
#define MIN_FRAME 14

/* The decoded copies: static, the engines call this from one thread. */
static struct apiary_input in_a;
static uint8_t frame[APIARY_INPUT_MAX_FRAME];

struct rng {
	uint64_t s;
};

static uint32_t rnd(struct rng *r)
{
	/* xorshift64*: plenty for choosing among a few operations */
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return (uint32_t)((r->s * 0x2545F4914F6CDD1Dull) >> 32);
}

static size_t pick(struct rng *r, size_t n)
{
	return n ? rnd(r) % n : 0;
}

static size_t encoded_size(const struct apiary_input *in)
{
	size_t n = HEADER_LEN;

	for (size_t i = 0; i < in->nevents; i++)
		n += EVENT_HEADER_LEN + in->events[i].len;
	return n;
}

static void remove_event(struct apiary_input *in, size_t i)
{
	memmove(&in->events[i], &in->events[i + 1],
		(in->nevents - i - 1) * sizeof(in->events[0]));
	in->nevents--;
}

/* Mutate the bytes of event i's frame within what max leaves room for. */
static void mutate_frame(struct apiary_input *in, size_t i, size_t max,
			 apiary_bytes_mutator mutate_bytes)
{
	struct apiary_event *ev = &in->events[i];
	size_t others = encoded_size(in) - ev->len, room, n;

	if (max < others + MIN_FRAME)
		return;
	room = max - others;
	if (room > APIARY_INPUT_MAX_FRAME)
		room = APIARY_INPUT_MAX_FRAME;
	memcpy(frame, ev->data, ev->len);
	n = mutate_bytes(frame, ev->len < room ? ev->len : room, room);
	if (n > room)
		n = room;
	if (n < MIN_FRAME) {
		/* what decoding would make of it */
		memset(frame + n, 0, MIN_FRAME - n);
		n = MIN_FRAME;
	}
	memcpy(ev->data, frame, n);
	ev->len = (uint16_t)n;
}

size_t apiary_input_mutate(uint8_t *buf, size_t len, size_t max, uint32_t seed,
			   apiary_bytes_mutator mutate_bytes)
{
	struct apiary_input *in = &in_a;
	struct rng r = { .s = ((uint64_t)seed << 1 | 1) * 0x9E3779B97F4A7C15ull };
	size_t n, i, op;

	if (apiary_input_decode(buf, len, in) || max < HEADER_LEN + EVENT_HEADER_LEN + MIN_FRAME)
		return mutate_bytes(buf, len, max); /* not an Apiary input: bytes */
	if (in->nevents == 0) {
		/* something to mutate: one zero frame at XDP */
		in->nevents = 1;
		in->events[0].hook = APIARY_HOOK_XDP;
		in->events[0].len = MIN_FRAME;
		memset(in->events[0].data, 0, MIN_FRAME);
	}
	n = in->nevents;
	i = pick(&r, n);
	op = pick(&r, 100);
	if (op < 73) {
		mutate_frame(in, i, max, mutate_bytes);
	} else if (op < 77) {
		in->ordering = (uint8_t)rnd(&r);
	} else if (op < 82) {
		size_t at = pick(&r, n + 2); /* 0..n, or none */

		in->update_at = at > n ? APIARY_INPUT_NO_UPDATE : (uint8_t)at;
	} else if (op < 87) {
		static const enum apiary_hook hooks[] = { APIARY_HOOK_XDP, APIARY_HOOK_TC_INGRESS,
							  APIARY_HOOK_TC_EGRESS };

		in->events[i].hook = hooks[pick(&r, 3)];
	} else if (op < 89) {
		if (n < APIARY_INPUT_MAX_EVENTS &&
		    encoded_size(in) + EVENT_HEADER_LEN + in->events[i].len <= max) {
			memmove(&in->events[i + 1], &in->events[i], (n - i) * sizeof(in->events[0]));
			in->nevents++;
		} else {
			mutate_frame(in, i, max, mutate_bytes);
		}
	} else if (op < 96) {
		if (n > 1)
			remove_event(in, i);
		else
			mutate_frame(in, i, max, mutate_bytes);
	} else {
		size_t j = pick(&r, n);
		struct apiary_event *a = &in->events[i], *b = &in->events[j];

		if (i != j) {
			/* through the frame scratch, not a 1.5 KiB event on the stack */
			enum apiary_hook hook = a->hook;
			uint16_t alen = a->len;

			memcpy(frame, a->data, alen);
			a->hook = b->hook;
			a->len = b->len;
			memcpy(a->data, b->data, b->len);
			b->hook = hook;
			b->len = alen;
			memcpy(b->data, frame, alen);
		} else {
			mutate_frame(in, i, max, mutate_bytes);
		}
	}
	/* as decoding would clamp it after a deletion */
	if (in->update_at != APIARY_INPUT_NO_UPDATE && in->update_at > in->nevents)
		in->update_at = (uint8_t)in->nevents;
	if (encoded_size(in) > max)
		return len; /* a non-canonical input whose padded form does not fit */
	return (size_t)apiary_input_encode(in, buf, max);
}
