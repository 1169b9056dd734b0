// SPDX-License-Identifier: MIT
/*
 * The fuzz executor's shortcuts change nothing a bundle can observe. Two
 * loads of the same coverage build on the real kernel:
 *   fast  - what engines run: resets skip maps whose write flags are clear,
 *           the flow table is emptied by bumping its epoch (old entries
 *           stay in the kernel until reclaimed), empty hops after the
 *           classifier's hook are left out;
 *   exact - opts.exact: every reset reads every map back, every hop runs.
 * A deterministic stream of inputs (1-4 events at random hooks; TCP with
 * every flag mix, UDP, frames too short for their IP header, thousands of
 * distinct ports so the 1024-entry flow table fills and reclaims; random
 * ordering byte and update point) runs through both, one after the other,
 * without a reset in between on the fast side. After each input the state
 * of both must be equal: every state map byte for byte, and the flow table
 * as far as it is live (fast: entries of the current epoch; exact: all),
 * epoch field aside.
 * usage: test_fuzz_shortcuts SPEC [INPUTS]
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "apiary/abi.h"
#include "apiary/fuzz.h"
#include "apiary/packet.h"
#include "common.h"

static const char *spec_path;
static long ninputs = 3000;
static struct apiary_bundle_ctx bundle;
static struct apiary_fuzz_target fast, exact;
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

/* One Ethernet/IPv4 frame (the project's packet builder): TCP with a flag
 * mix, or UDP; sometimes cut shorter than its IP header. */
static uint16_t make_frame(uint8_t *f)
{
	static const uint16_t ports[] = { 80, 443, 4242, 8443, 1234, 53, 22 };
	static const uint8_t flags[] = { 0x02, 0x12, 0x10, 0x11, 0x04, 0x03, 0x06, 0x18, 0x01 };
	struct apiary_pkt_fields pf;
	uint32_t r = next();
	bool udp = r % 7 == 0;
	long len;

	apiary_pkt_fields_default(&pf, APIARY_L_ETH | APIARY_L_IPV4 |
					       (udp ? APIARY_L_UDP : APIARY_L_TCP));
	memcpy(pf.ip_src, (uint8_t[]){ 10, 0, 0, (uint8_t)(1 + next() % 3) }, 4);
	memcpy(pf.ip_dst, (uint8_t[]){ 10, 0, 0, (uint8_t)(1 + next() % 3) }, 4);
	pf.sport = r % 3 == 0 ? (uint16_t)(1024 + next() % 60000) : ports[next() % 7];
	pf.dport = ports[next() % 7];
	pf.tcp_flags = flags[next() % sizeof(flags)];
	pf.payload_len = (uint16_t)(next() % 3 == 0 ? 6 : next() % 24);
	len = apiary_packet_build(&pf, f, APIARY_INPUT_MAX_FRAME);
	assert_true(len > pf.payload_len);
	if (pf.payload_len == 6 && next() % 2)
		memcpy(f + len - 6, "APIARY", 6);
	else
		for (uint16_t i = 0; i < pf.payload_len; i++)
			f[len - pf.payload_len + i] = (uint8_t)next();
	if (next() % 17 == 0)
		return (uint16_t)(14 + next() % 20); /* shorter than its IP header */
	return (uint16_t)len;
}

static void make_input(struct apiary_input *in)
{
	memset(in, 0, sizeof(*in));
	in->ordering = (uint8_t)next();
	in->nevents = 1 + next() % 4;
	in->update_at = next() % 3 == 0 ? (uint8_t)(next() % in->nevents) : 0xff;
	for (uint32_t e = 0; e < in->nevents; e++) {
		in->events[e].hook = (enum apiary_hook)(1 + next() % 3);
		in->events[e].len = make_frame(in->events[e].data);
	}
}

/* Is this change of the flow table only an entry the fast side no longer
 * counts (an older epoch), or the same live entry (epoch aside)? */
static bool flows_agree(const struct apiary_map_change *c, uint32_t epoch)
{
	struct apiary_flow a, b;
	bool live;

	if (c->value_size != sizeof(struct apiary_flow))
		return false;
	if (c->before)
		memcpy(&a, c->before, sizeof(a));
	live = c->before && a.epoch == epoch;
	if (!c->after)
		return !live;
	if (!live)
		return false;
	memcpy(&b, c->after, sizeof(b));
	a.epoch = b.epoch = 0;
	return !memcmp(&a, &b, sizeof(a));
}

/* The bundle compiled with counters (into a temporary directory) and
 * loaded twice more, as the fast and the exact target. */
static int setup(void **state)
{
	struct apiary_bundle_opts bo = { .sz = sizeof(bo), .coverage = true, .cpu = 0 };
	struct apiary_fuzz_target_opts to = { .sz = sizeof(to), .cpu = 0 };
	struct apiary_diags d;
	int err;

	apiary_diags_init(&d);
	err = apiary_bundle_open(spec_path, &bo, &bundle, &d);
	err = err ?: apiary_fuzz_target_attach(bundle.spec, bundle.build, &to, &fast, &d);
	to.exact = true;
	err = err ?: apiary_fuzz_target_attach(bundle.spec, bundle.build, &to, &exact, &d);
	apiary_diags_print(&d, stderr);
	apiary_diags_free(&d);
	return err;
}

static int teardown(void **state)
{
	apiary_fuzz_target_close(&fast);
	apiary_fuzz_target_close(&exact);
	apiary_bundle_close(&bundle);
	return 0;
}

static void test_same_state(void **state)
{
	static struct apiary_input in;
	static uint8_t buf[1 << 16], map[1 << 16];
	struct apiary_exec_result res;
	size_t flows_map = (size_t)-1, compared = 0, stale = 0;

	for (size_t i = 0; i < apiary_rt_nmaps(fast.rt); i++)
		if (!strcmp(apiary_rt_map_name(fast.rt, i), APIARY_MAP_FLOWS))
			flows_map = i;
	for (long n = 0; n < ninputs; n++) {
		struct apiary_snapshot *a = NULL, *b = NULL;
		struct apiary_delta delta;
		long len;
		int64_t epoch;

		make_input(&in);
		len = apiary_input_encode(&in, buf, sizeof(buf));
		assert_true(len > 0);
		assert_int_equal(apiary_harness_exec(fast.harness, buf, (size_t)len, map, sizeof(map),
						     &res), 0);
		assert_int_equal(res.err, 0);
		assert_int_equal(apiary_harness_exec(exact.harness, buf, (size_t)len, map,
						     sizeof(map), &res), 0);
		assert_int_equal(res.err, 0);
		assert_int_equal(apiary_rt_snapshot(fast.rt, &a), 0);
		assert_int_equal(apiary_rt_snapshot(exact.rt, &b), 0);
		assert_int_equal(apiary_snapshot_diff(a, b, &delta), 0);
		epoch = apiary_rt_exec_flow_epoch(fast.exec);
		for (size_t c = 0; c < delta.n; c++) {
			const struct apiary_map_change *ch = &delta.changes[c];

			if (ch->map == flows_map && epoch >= 0 && flows_agree(ch, (uint32_t)epoch)) {
				stale += !ch->after;
				continue;
			}
			fail_msg("input %ld (%s): map %s differs between the fast and the exact "
				 "executor", n, apiary_input_to_hex(&in),
				 apiary_rt_map_name(fast.rt, ch->map));
		}
		compared++;
		apiary_delta_free(&delta);
		apiary_snapshot_free(a);
		apiary_snapshot_free(b);
	}
	assert_int_equal(compared, (size_t)ninputs);
	fprintf(stderr, "%zu inputs: %llu/%llu test runs (fast/exact), %llu hops left out, "
			"%llu/%llu map reads, %zu old-epoch flow entries met in comparisons, epoch %lld\n",
		compared, (unsigned long long)apiary_rt_exec_runs(fast.exec),
		(unsigned long long)apiary_rt_exec_runs(exact.exec),
		(unsigned long long)apiary_rt_exec_skipped_hooks(fast.exec),
		(unsigned long long)apiary_rt_exec_maps_read(fast.exec),
		(unsigned long long)apiary_rt_exec_maps_read(exact.exec), stale,
		(long long)apiary_rt_exec_flow_epoch(fast.exec));
	/* the shortcuts were taken, or the comparison proves nothing */
	assert_true(apiary_rt_exec_runs(fast.exec) < apiary_rt_exec_runs(exact.exec));
	assert_true(apiary_rt_exec_maps_read(fast.exec) < apiary_rt_exec_maps_read(exact.exec));
	assert_int_equal(apiary_rt_exec_skipped_hooks(exact.exec), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_state),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s SPEC [INPUTS]\n", argv[0]);
		return 2;
	}
	spec_path = argv[1];
	if (argc > 2)
		ninputs = atol(argv[2]);
	return cmocka_run_group_tests(tests, setup, teardown);
}
