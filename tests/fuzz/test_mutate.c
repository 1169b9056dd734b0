// SPDX-License-Identifier: MIT
/*
 * Structure-aware mutation (fuzz/mutate.c), pure logic: every result is a
 * well-formed Apiary input within the size limit, most mutations touch one
 * frame and leave every other event alone, the event count moves by whole
 * events, same seed gives the same result, bytes that are not an Apiary
 * input are handed to the byte mutator whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "apiary/input.h"

static struct apiary_input before, after, scratch;
static uint8_t buf[1 << 16], orig[1 << 16], re[1 << 16];
static size_t byte_calls, last_call_size;
static uint64_t prng = 88172645463325252ull;

static uint32_t rnd(void)
{
	prng ^= prng << 13;
	prng ^= prng >> 7;
	prng ^= prng << 17;
	return (uint32_t)prng;
}

/* A stand-in for the engine's byte mutator: flip one byte, sometimes grow
 * or shrink by a few bytes, never past max_size. */
static size_t byte_mutator(uint8_t *data, size_t size, size_t max_size)
{
	byte_calls++;
	last_call_size = size;
	if (size)
		data[rnd() % size] ^= (uint8_t)(1 + rnd() % 255);
	switch (rnd() % 4) {
	case 0:
		if (size + 3 <= max_size) {
			memset(data + size, 0x5a, 3);
			size += 3;
		}
		break;
	case 1:
		if (size > 2)
			size -= 2;
		break;
	}
	return size;
}

/* A random well-formed input: 1..6 events of 14..200 bytes. */
static size_t random_input(uint8_t *out, size_t cap)
{
	struct apiary_input *in = &scratch;
	long n;

	memset(in, 0, sizeof(*in));
	in->ordering = (uint8_t)rnd();
	in->update_at = rnd() % 3 ? APIARY_INPUT_NO_UPDATE : (uint8_t)(rnd() % 3);
	in->nevents = 1 + rnd() % 6;
	for (size_t i = 0; i < in->nevents; i++) {
		struct apiary_event *ev = &in->events[i];

		ev->hook = (enum apiary_hook)(APIARY_HOOK_XDP + rnd() % 3);
		ev->len = (uint16_t)(14 + rnd() % 187);
		for (size_t k = 0; k < ev->len; k++)
			ev->data[k] = (uint8_t)rnd();
	}
	if (in->update_at != APIARY_INPUT_NO_UPDATE && in->update_at > in->nevents)
		in->update_at = (uint8_t)in->nevents;
	n = apiary_input_encode(in, out, cap);
	assert_true(n > 0);
	return (size_t)n;
}

static bool same_event(const struct apiary_event *a, const struct apiary_event *b)
{
	return a->hook == b->hook && a->len == b->len && !memcmp(a->data, b->data, a->len);
}

/* Result decodes, fits, and is in canonical form (re-encoding is identical). */
static void check_well_formed(const uint8_t *p, size_t n, size_t max)
{
	long m;

	assert_true(n <= max);
	assert_int_equal(apiary_input_decode(p, n, &after), 0);
	assert_true(after.nevents >= 1 && after.nevents <= APIARY_INPUT_MAX_EVENTS);
	m = apiary_input_encode(&after, re, sizeof(re));
	assert_int_equal(m, (long)n);
	assert_memory_equal(re, p, n);
}

static void test_results_are_well_formed(void **state)
{
	(void)state;
	for (uint32_t seed = 0; seed < 5000; seed++) {
		size_t len = random_input(buf, sizeof(buf));
		size_t max = len + rnd() % 64; /* sometimes no room to grow */
		size_t n = apiary_input_mutate(buf, len, max, seed, byte_mutator);

		check_well_formed(buf, n, max);
	}
}

static void test_mutations_are_local(void **state)
{
	size_t one_frame = 0, count_changed = 0, total = 4000;

	(void)state;
	for (uint32_t seed = 0; seed < total; seed++) {
		size_t len = random_input(buf, sizeof(buf)), n, changed = 0;

		assert_int_equal(apiary_input_decode(buf, len, &before), 0);
		n = apiary_input_mutate(buf, len, sizeof(buf), seed, byte_mutator);
		assert_int_equal(apiary_input_decode(buf, n, &after), 0);
		if (after.nevents != before.nevents) {
			/* whole events: one more (a copy of a neighbour) or one fewer */
			count_changed++;
			continue;
		}
		for (size_t i = 0; i < before.nevents; i++)
			changed += !same_event(&before.events[i], &after.events[i]);
		if (changed == 1 && before.ordering == after.ordering &&
		    before.update_at == after.update_at)
			one_frame++;
	}
	/* ~70% of the operations mutate one frame (a mutation may also leave it
	 * as it was); the count changes by dup/delete and rare raw mutations */
	assert_true(one_frame > total * 55 / 100);
	assert_true(count_changed < total * 20 / 100);
	assert_true(count_changed > 0);
}

static void test_event_count_moves_by_whole_events(void **state)
{
	size_t grew = 0, shrank = 0;

	(void)state;
	for (uint32_t seed = 0; seed < 3000; seed++) {
		size_t len = random_input(buf, sizeof(buf)), n;

		memcpy(orig, buf, len);
		assert_int_equal(apiary_input_decode(orig, len, &before), 0);
		n = apiary_input_mutate(buf, len, sizeof(buf), seed, byte_mutator);
		assert_int_equal(apiary_input_decode(buf, n, &after), 0);
		if (after.nevents == before.nevents + 1) {
			/* a duplicate: some event now appears twice in a row */
			bool dup = false;

			for (size_t i = 0; i + 1 < after.nevents; i++)
				dup |= same_event(&after.events[i], &after.events[i + 1]);
			grew += dup;
		} else if (after.nevents + 1 == before.nevents) {
			shrank++;
		}
	}
	assert_true(grew > 0);
	assert_true(shrank > 0);
}

static void test_same_seed_same_result(void **state)
{
	(void)state;
	for (uint32_t seed = 0; seed < 200; seed++) {
		size_t len = random_input(orig, sizeof(orig)), n1, n2;
		uint64_t saved = prng;

		memcpy(buf, orig, len);
		n1 = apiary_input_mutate(buf, len, sizeof(buf), seed, byte_mutator);
		memcpy(re, buf, n1);
		prng = saved; /* the stand-in byte mutator draws from prng too */
		memcpy(buf, orig, len);
		n2 = apiary_input_mutate(buf, len, sizeof(buf), seed, byte_mutator);
		assert_int_equal(n1, n2);
		assert_memory_equal(re, buf, n1);
	}
}

static void test_foreign_bytes_go_to_the_byte_mutator(void **state)
{
	size_t n;

	(void)state;
	memcpy(buf, "not an apiary input", 19);
	byte_calls = 0;
	n = apiary_input_mutate(buf, 19, 64, 7, byte_mutator);
	assert_int_equal(byte_calls, 1);
	assert_int_equal(last_call_size, 19);
	assert_true(n <= 64);
}

static void test_empty_input_gets_an_event(void **state)
{
	const uint8_t hdr[4] = { 'A', 1, 0, 0xff };
	size_t n;

	(void)state;
	memcpy(buf, hdr, 4);
	n = apiary_input_mutate(buf, 4, 256, 3, byte_mutator);
	check_well_formed(buf, n, 256);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_results_are_well_formed),
		cmocka_unit_test(test_mutations_are_local),
		cmocka_unit_test(test_event_count_moves_by_whole_events),
		cmocka_unit_test(test_same_seed_same_result),
		cmocka_unit_test(test_foreign_bytes_go_to_the_byte_mutator),
		cmocka_unit_test(test_empty_input_gets_an_event),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
