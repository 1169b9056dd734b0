// SPDX-License-Identifier: MIT
/*
 * z3 generator: every generated packet agrees with the C evaluator (and
 * with the label), boundary values appear, overlaps of narrow rules are
 * found where random frames never land, caps, stops and errors.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


#include <cmocka.h>

#include "apiary/packet.h"
#include "apiary/z3gen.h"
#include "pred_build.h"

/* What a run saw, checked packet by packet in the callback. */
struct seen_pkts {
	const struct apiary_pred **preds;
	size_t npreds;
	size_t count, by_kind[32];
	size_t mismatches;
	/* frames, to check deduplication and to look for boundary values */
	struct apiary_pkt_fields *fields;
	enum apiary_z3gen_kind *kinds;
	uint8_t (*frames)[256];
	size_t *lens;
	size_t cap;
	int stop_after; /* 0: never */
};

static size_t kind_bit(enum apiary_z3gen_kind k)
{
	return (size_t)__builtin_ctz((unsigned)k);
}

/* Check one packet: it parses to the shape it claims, apiary_pred_eval
 * agrees with z3's membership for every predicate, and membership agrees
 * with the question (inside => P, overlap => P and Q, ...). */
static int check_cb(void *ctx, const struct apiary_z3gen_packet *pkt)
{
	struct seen_pkts *s = ctx;
	struct apiary_pkt_fields f;
	uint32_t ly = apiary_packet_parse(pkt->frame, pkt->len, &f);

	assert_int_equal(ly, apiary_pkt_shapes[pkt->shape].layers);
	assert_int_equal(pkt->npreds, s->npreds);
	assert_non_null(pkt->why);
	for (size_t k = 0; k < s->npreds; k++) {
		bool e = apiary_pred_eval(s->preds[k], &f);

		if (e != pkt->member[k]) {
			char d[512];

			apiary_packet_describe(pkt->frame, pkt->len, d, sizeof(d));
			print_error("mismatch pred %zu on %s: eval %d z3 %d\n  %s\n", k, pkt->why, e,
				    pkt->member[k], d);
			s->mismatches++;
		}
	}
	switch (pkt->kind) {
	case APIARY_Z3K_INSIDE:
		assert_true(pkt->member[pkt->a]);
		assert_non_null(strstr(pkt->why, "inside"));
		break;
	case APIARY_Z3K_OVERLAP:
		assert_true(pkt->member[pkt->a] && pkt->member[pkt->b]);
		break;
	case APIARY_Z3K_DIFF:
		assert_true(pkt->member[pkt->a] && !pkt->member[pkt->b]);
		break;
	case APIARY_Z3K_OUTSIDE:
		for (size_t k = 0; k < s->npreds; k++)
			assert_false(pkt->member[k]);
		break;
	case APIARY_Z3K_BOUNDARY:
		assert_non_null(strstr(pkt->why, pkt->member[pkt->a] ? "(inside)" : "(outside)"));
		break;
	default:
		fail_msg("unknown kind %d", pkt->kind);
	}
	s->by_kind[kind_bit(pkt->kind)]++;
	if (s->count < s->cap) {
		assert_true(pkt->len <= sizeof(s->frames[0]));
		s->fields[s->count] = f;
		s->kinds[s->count] = pkt->kind;
		memcpy(s->frames[s->count], pkt->frame, pkt->len);
		s->lens[s->count] = pkt->len;
	}
	s->count++;
	if (s->stop_after && s->count == (size_t)s->stop_after)
		return 7;
	return 0;
}

static void seen_init(struct seen_pkts *s, const struct apiary_pred **preds, size_t n, size_t cap)
{
	memset(s, 0, sizeof(*s));
	s->preds = preds;
	s->npreds = n;
	s->cap = cap;
	s->fields = calloc(cap, sizeof(*s->fields));
	s->kinds = calloc(cap, sizeof(*s->kinds));
	s->frames = calloc(cap, sizeof(*s->frames));
	s->lens = calloc(cap, sizeof(*s->lens));
	assert_non_null(s->fields);
	assert_non_null(s->kinds);
	assert_non_null(s->frames);
	assert_non_null(s->lens);
}

static void seen_free(struct seen_pkts *s)
{
	free(s->fields);
	free(s->kinds);
	free(s->frames);
	free(s->lens);
}

static void no_duplicate_frames(const struct seen_pkts *s)
{
	size_t n = s->count < s->cap ? s->count : s->cap;

	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			assert_false(s->lens[i] == s->lens[j] &&
				     !memcmp(s->frames[i], s->frames[j], s->lens[i]));
}

/* Is there a packet whose field has value v? Any kind: a boundary packet
 * equal to an earlier frame (an inside packet at the default port 53, say)
 * is deduplicated, not handed out twice. */
static bool has_boundary(const struct seen_pkts *s, enum apiary_field fld, apiary_u128 v)
{
	size_t n = s->count < s->cap ? s->count : s->cap;

	for (size_t i = 0; i < n; i++) {
		apiary_u128 x;

		if (apiary_pkt_field_get(&s->fields[i], fld, &x) && x == v)
			return true;
	}
	return false;
}

static apiary_u128 ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return (apiary_u128)a << 24 | (apiary_u128)b << 16 | (apiary_u128)c << 8 | d;
}

/* The example bundle's predicates: every kind of question, every packet
 * checked against the evaluator, boundary values present. */
static void test_bundle_predicates(void **state)
{
	const struct apiary_pred *preds[5];
	struct apiary_z3gen *g;
	struct seen_pkts s;
	const struct apiary_z3gen_stats *st;
	int r;

	pb_reset();
	/* firewall: drop when tcp.dport == 23 or ip.src in 10.66.0.0/16 */
	preds[0] = P_OR(EQ(APIARY_F_TCP_DPORT, L_INT(23)), P_IN(APIARY_F_IP_SRC, L_IP4("10.66.0.0", 16)));
	/* lb: tx when ip.dst == 192.0.2.10 and tcp.dport == 80 */
	preds[1] = P_AND(EQ(APIARY_F_IP_DST, L_IP4("192.0.2.10", 32)), EQ(APIARY_F_TCP_DPORT, L_INT(80)));
	/* cover meter sees ip.proto == tcp */
	preds[2] = EQ(APIARY_F_IP_PROTO, L_INT(6));
	/* syn-guard: tcp.flags has syn and not tcp.flags has ack and l4.sport in 1024..2048 */
	preds[3] = P_AND(P_AND(P_HAS(APIARY_F_TCP_FLAGS, 0x02), P_NOT(P_HAS(APIARY_F_TCP_FLAGS, 0x10))),
			 P_IN(APIARY_F_L4_SPORT, L_RANGE(1024, 2048)));
	/* v6 team: ip6.src in 2001:db8:66::/48 or udp.dport in {53, 123} or vlan.id == 7 */
	preds[4] = P_OR(P_OR(P_IN(APIARY_F_IP6_SRC, L_IP6("2001:db8:66::", 48)),
			     P_IN(APIARY_F_UDP_DPORT, L_SET(2, L_INT(53), L_INT(123)))),
			EQ(APIARY_F_VLAN_ID, L_INT(7)));

	g = apiary_z3gen_new(NULL);
	assert_non_null(g);
	assert_int_equal(apiary_z3gen_add(g, preds[0], "firewall.drop"), 0);
	assert_int_equal(apiary_z3gen_add(g, preds[1], "lb.tx"), 1);
	assert_int_equal(apiary_z3gen_add(g, preds[2], "cover meter"), 2);
	assert_int_equal(apiary_z3gen_add(g, preds[3], "synguard.drop"), 3);
	assert_int_equal(apiary_z3gen_add(g, preds[4], "v6team.pass"), 4);
	seen_init(&s, preds, 5, 4096);
	r = apiary_z3gen_run(g, check_cb, &s);
	assert_int_equal(r, 0);
	st = apiary_z3gen_stats(g);
	assert_int_equal(s.mismatches, 0);
	assert_int_equal(st->generated, s.count);
	assert_int_equal(st->unknown, 0);
	assert_int_equal(st->skipped, 0);
	assert_int_equal(st->capped, 0);
	assert_true(st->unsat > 0); /* e.g. tcp tests in udp shapes */
	assert_null(apiary_z3gen_error(g));
	for (unsigned k = 0; k < 5; k++)
		assert_true(s.by_kind[k] > 0);
	no_duplicate_frames(&s);

	/* tcp.dport == 23: 22, 23, 24; == 80: 79, 80, 81. */
	for (unsigned p = 22; p <= 24; p++)
		assert_true(has_boundary(&s, APIARY_F_TCP_DPORT, p));
	for (unsigned p = 79; p <= 81; p++)
		assert_true(has_boundary(&s, APIARY_F_TCP_DPORT, p));
	/* 10.66.0.0/16: first and last address, and just outside. */
	assert_true(has_boundary(&s, APIARY_F_IP_SRC, ip4(10, 65, 255, 255)));
	assert_true(has_boundary(&s, APIARY_F_IP_SRC, ip4(10, 66, 0, 0)));
	assert_true(has_boundary(&s, APIARY_F_IP_SRC, ip4(10, 66, 255, 255)));
	assert_true(has_boundary(&s, APIARY_F_IP_SRC, ip4(10, 67, 0, 0)));
	assert_true(has_boundary(&s, APIARY_F_IP_DST, ip4(192, 0, 2, 9)));
	assert_true(has_boundary(&s, APIARY_F_IP_DST, ip4(192, 0, 2, 11)));
	/* range 1024..2048 */
	for (unsigned p = 1023; p <= 1024; p++)
		assert_true(has_boundary(&s, APIARY_F_L4_SPORT, p));
	for (unsigned p = 2048; p <= 2049; p++)
		assert_true(has_boundary(&s, APIARY_F_L4_SPORT, p));
	/* has: the mask exactly and with its bit missing */
	assert_true(has_boundary(&s, APIARY_F_TCP_FLAGS, 0x02));
	assert_true(has_boundary(&s, APIARY_F_TCP_FLAGS, 0x00) ||
		    has_boundary(&s, APIARY_F_TCP_FLAGS, 0x10));
	/* set {53, 123}, ipv6 /48 edges, vlan 6..8 */
	for (unsigned p = 52; p <= 54; p++)
		assert_true(has_boundary(&s, APIARY_F_UDP_DPORT, p));
	for (unsigned p = 122; p <= 124; p++)
		assert_true(has_boundary(&s, APIARY_F_UDP_DPORT, p));
	{
		apiary_u128 lo = (apiary_u128)0x20010db800660000ull << 64;
		apiary_u128 hi = lo | (((apiary_u128)1 << 80) - 1);

		assert_true(has_boundary(&s, APIARY_F_IP6_SRC, lo - 1));
		assert_true(has_boundary(&s, APIARY_F_IP6_SRC, lo));
		assert_true(has_boundary(&s, APIARY_F_IP6_SRC, hi));
		assert_true(has_boundary(&s, APIARY_F_IP6_SRC, hi + 1));
	}
	for (unsigned v = 6; v <= 8; v++)
		assert_true(has_boundary(&s, APIARY_F_VLAN_ID, v));
	/* The boundary keeps the rest of the predicate: the lb packet with
	 * dport 81 still goes to 192.0.2.10. */
	{
		size_t n = s.count < s.cap ? s.count : s.cap;
		bool found = false;

		for (size_t i = 0; i < n; i++)
			if (s.kinds[i] == APIARY_Z3K_BOUNDARY && (s.fields[i].layers & APIARY_L_TCP) &&
			    s.fields[i].dport == 81 &&
			    !memcmp(s.fields[i].ip_dst, (uint8_t[]){ 192, 0, 2, 10 }, 4))
				found = true;
		assert_true(found);
	}
	seen_free(&s);
	apiary_z3gen_free(g);
}

/* Unpinned fields keep their defaults, so packets read well. */
static void test_defaults_kept(void **state)
{
	const struct apiary_pred *p;
	uint8_t fr[256];
	struct apiary_pkt_fields f;
	long len;

	pb_reset();
	p = EQ(APIARY_F_TCP_DPORT, L_INT(23));
	len = apiary_z3gen_example(p, 0, fr, sizeof(fr));
	assert_true(len > 0);
	assert_int_equal(apiary_packet_parse(fr, (size_t)len, &f), apiary_pkt_shapes[0].layers);
	assert_int_equal(f.dport, 23);
	assert_int_equal(f.sport, 40000);
	assert_int_equal(f.ip_ttl, 64);
	assert_int_equal(f.tcp_flags, 0x02);
	assert_memory_equal(f.ip_src, ((uint8_t[]){ 10, 0, 0, 1 }), 4);

	/* A predicate against the default moves just that field. */
	p = P_NOT(EQ(APIARY_F_IP_SRC, L_IP4("10.0.0.1", 32)));
	len = apiary_z3gen_example(p, 1, fr, sizeof(fr));
	assert_true(len > 0);
	apiary_packet_parse(fr, (size_t)len, &f);
	assert_memory_not_equal(f.ip_src, ((uint8_t[]){ 10, 0, 0, 1 }), 4);
	assert_int_equal(f.dport, 80);
	assert_int_equal(f.ip_ttl, 64);

	/* Shape mask: only IPv6 shapes (indexes 3..5). */
	p = EQ(APIARY_F_L4_DPORT, L_INT(443));
	len = apiary_z3gen_example(p, 1u << 3 | 1u << 4 | 1u << 5, fr, sizeof(fr));
	assert_true(len > 0);
	assert_true(apiary_packet_parse(fr, (size_t)len, &f) & APIARY_L_IPV6);
	assert_int_equal(f.dport, 443);

	/* Impossible: 0; too small a buffer: -ENOSPC. */
	p = P_AND(EQ(APIARY_F_TCP_DPORT, L_INT(23)), EQ(APIARY_F_UDP_DPORT, L_INT(23)));
	assert_int_equal(apiary_z3gen_example(p, 0, fr, sizeof(fr)), 0);
	p = EQ(APIARY_F_TCP_DPORT, L_INT(70000));
	assert_int_equal(apiary_z3gen_example(p, 0, fr, sizeof(fr)), 0);
	p = EQ(APIARY_F_TCP_DPORT, L_INT(23));
	assert_int_equal(apiary_z3gen_example(p, 0, fr, 20), -ENOSPC);
	assert_int_equal(apiary_z3gen_example(NULL, 0, fr, sizeof(fr)), -EINVAL);
}

/* Non-IP and "other protocol" shapes answer questions the IP shapes can't,
 * and never collide with the parsed protocols. */
static void test_other_shapes(void **state)
{
	const struct apiary_pred *preds[3];
	struct apiary_z3gen *g;
	struct seen_pkts s;

	pb_reset();
	preds[0] = P_NOT(EQ(APIARY_F_ETH_TYPE, L_INT(0x0806)));
	preds[1] = P_IN(APIARY_F_IP_PROTO, L_RANGE(0, 20));
	preds[2] = P_CMP(APIARY_F_IP6_PROTO, APIARY_OP_GE, L_INT(6));
	g = apiary_z3gen_new(&(struct apiary_z3gen_opts){ .sz = sizeof(struct apiary_z3gen_opts),
							  .kinds = APIARY_Z3K_INSIDE | APIARY_Z3K_OUTSIDE });
	assert_non_null(g);
	for (int i = 0; i < 3; i++)
		assert_int_equal(apiary_z3gen_add(g, preds[i], NULL), i);
	seen_init(&s, preds, 3, 512);
	assert_int_equal(apiary_z3gen_run(g, check_cb, &s), 0);
	assert_int_equal(s.mismatches, 0);
	assert_int_equal(apiary_z3gen_stats(g)->empty, 0);
	/* inside not-ARP in the "eth" shape: some other ethertype, not IP/VLAN */
	{
		size_t n = s.count < s.cap ? s.count : s.cap;
		bool eth_other = false, ip_other = false;

		for (size_t i = 0; i < n; i++) {
			const struct apiary_pkt_fields *f = &s.fields[i];

			if (f->layers == APIARY_L_ETH && f->eth_type != APIARY_ETH_P_ARP) {
				eth_other = true;
				assert_true(f->eth_type >= 0x600 && f->eth_type != APIARY_ETH_P_IPV4 &&
					    f->eth_type != APIARY_ETH_P_IPV6 &&
					    f->eth_type != APIARY_ETH_P_VLAN &&
					    f->eth_type != APIARY_ETH_P_QINQ);
			}
			if (f->layers == (APIARY_L_ETH | APIARY_L_IPV4) && s.kinds[i] == APIARY_Z3K_INSIDE &&
			    f->ip_proto <= 20)
				ip_other = true;
		}
		assert_true(eth_other);
		assert_true(ip_other);
	}
	seen_free(&s);
	apiary_z3gen_free(g);
}

/* ---- random predicates: encoder and evaluator agree ------------------ */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* A value near the interesting ones (defaults, 0, max) or random. */
static uint64_t rnd_val(unsigned w, uint64_t near)
{
	uint64_t max = w >= 64 ? ~0ull : (1ull << w) - 1;

	switch (rnd() % 4) {
	case 0: return near + rnd() % 3 - 1;
	case 1: return rnd() % 2 ? 0 : max;
	case 2: return rnd() & max;
	default: return (near + rnd() % 5) & max;
	}
}

static struct apiary_literal rnd_lit(enum apiary_field f)
{
	unsigned w = apiary_pkt_field_bits(f);
	struct apiary_literal l;
	struct apiary_pkt_fields d;
	apiary_u128 dv = 0;

	apiary_pkt_fields_default(&d, APIARY_L_ETH | APIARY_L_VLAN | APIARY_L_IPV4 | APIARY_L_TCP |
					      APIARY_L_L4);
	apiary_pkt_field_get(&d, f, &dv);
	if (w == 32) {
		uint32_t v = (uint32_t)rnd_val(32, (uint64_t)dv);

		l = L_IP4("0.0.0.0", (int)(rnd() % 34));
		for (int i = 0; i < 4; i++)
			l.addr[i] = (uint8_t)(v >> (24 - 8 * i));
	} else if (w == 128) {
		l = L_IP6("2001:db8::1", (int)(rnd() % 130));
		if (rnd() % 2)
			l.addr[(rnd() % 16)] ^= (uint8_t)rnd();
	} else if (w == 48) {
		uint8_t m[6] = { 2, 0, 0, 0, 0, (uint8_t)(rnd() % 3) };

		l = L_MAC(m);
	} else {
		l = L_INT(rnd_val(w, (uint64_t)dv));
	}
	return l;
}

static struct apiary_pred *rnd_pred(int depth)
{
	unsigned c = (unsigned)(rnd() % (depth > 0 ? 7 : 4));
	enum apiary_field f = (enum apiary_field)(rnd() % APIARY_F__COUNT);
	unsigned w = apiary_pkt_field_bits(f);

	switch (c) {
	case 0:
		return P_CMP(f, (enum apiary_cmp_op)(rnd() % 6), rnd_lit(f));
	case 1:
		if (w == 32 || w == 128 || w == 48)
			return P_IN(f, rnd_lit(f));
		else {
			uint64_t a = rnd_val(w, 100), b = a + rnd() % 50;

			return P_IN(f, L_RANGE(a, b));
		}
	case 2:
		return P_IN(f, L_SET(1 + rnd() % 3, rnd_lit(f), rnd_lit(f), rnd_lit(f)));
	case 3:
		return P_HAS(f, w <= 16 ? (1u << (rnd() % w)) | (rnd() % 2 ? 0x10 : 0) : 1);
	case 4:
		return P_AND(rnd_pred(depth - 1), rnd_pred(depth - 1));
	case 5:
		return P_OR(rnd_pred(depth - 1), rnd_pred(depth - 1));
	default:
		return P_NOT(rnd_pred(depth - 1));
	}
}

/* 72 random predicates in 12 runs of 6: every packet's z3 membership equals
 * apiary_pred_eval on the parsed frame. */
static void test_random_agreement(void **state)
{
	size_t total = 0;

	rng_state = 0x9e3779b97f4a7c15ull;
	for (int run = 0; run < 12; run++) {
		const struct apiary_pred *preds[6];
		struct apiary_z3gen *g;
		struct seen_pkts s;

		pb_reset();
		g = apiary_z3gen_new(&(struct apiary_z3gen_opts){
			.sz = sizeof(struct apiary_z3gen_opts), .max_packets = 600,
			.payload_len = (uint16_t)(run * 3) });
		assert_non_null(g);
		for (int i = 0; i < 6; i++) {
			preds[i] = rnd_pred(3);
			assert_int_equal(apiary_z3gen_add(g, preds[i], NULL), i);
		}
		seen_init(&s, preds, 6, 1);
		assert_true(apiary_z3gen_run(g, check_cb, &s) == 0);
		assert_int_equal(s.mismatches, 0);
		assert_int_equal(apiary_z3gen_stats(g)->unknown, 0);
		total += s.count;
		if (getenv("Z3GEN_VERBOSE"))
			print_message("run %d: %zu queries %zu packets\n", run, apiary_z3gen_stats(g)->queries, s.count);
		seen_free(&s);
		apiary_z3gen_free(g);
	}
	print_message("random agreement: %zu packets checked\n", total);
	assert_true(total > 700);
}

/* ---- the key test: narrow overlaps ----------------------------------- */

/* P = ip.src == 198.51.100.77, Q = tcp.dport == 8443: z3 finds P and Q at
 * once; 100000 uniformly random frames of the same shapes never do. */
static void test_narrow_overlap(void **state)
{
	const struct apiary_pred *preds[2];
	struct apiary_z3gen *g;
	struct seen_pkts s;
	size_t overlap = 0, n, hp = 0, hq = 0, hpq = 0;
	uint8_t fr[256];
	struct timespec t0, t1;

	pb_reset();
	preds[0] = EQ(APIARY_F_IP_SRC, L_IP4("198.51.100.77", 32));
	preds[1] = EQ(APIARY_F_TCP_DPORT, L_INT(8443));
	g = apiary_z3gen_new(&(struct apiary_z3gen_opts){ .sz = sizeof(struct apiary_z3gen_opts),
							  .kinds = APIARY_Z3K_OVERLAP });
	assert_non_null(g);
	apiary_z3gen_add(g, preds[0], "P");
	apiary_z3gen_add(g, preds[1], "Q");
	seen_init(&s, preds, 2, 16);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(apiary_z3gen_run(g, check_cb, &s), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(s.mismatches, 0);
	n = s.count < s.cap ? s.count : s.cap;
	for (size_t i = 0; i < n; i++) {
		if (s.kinds[i] != APIARY_Z3K_OVERLAP)
			continue;
		assert_true(apiary_pred_eval(preds[0], &s.fields[i]));
		assert_true(apiary_pred_eval(preds[1], &s.fields[i]));
		overlap++;
		{
			char d[512];

			apiary_packet_describe(s.frames[i], s.lens[i], d, sizeof(d));
			print_message("z3 P&Q (%.1f ms): %s\n",
				      (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6, d);
		}
	}
	assert_int_equal(overlap, 1);
	seen_free(&s);
	apiary_z3gen_free(g);

	/* Uniform random frames over the same shapes, seeded. */
	rng_state = 0x5eed5eed12345678ull;
	for (int i = 0; i < 100000; i++) {
		const struct apiary_pkt_shape *sh = &apiary_pkt_shapes[rnd() % apiary_pkt_nshapes];
		struct apiary_pkt_fields f, p;
		long len;

		apiary_pkt_fields_default(&f, sh->layers);
		for (int fld = 0; fld < APIARY_F__COUNT; fld++) {
			uint32_t need = apiary_pkt_field_layers(fld);
			unsigned w = apiary_pkt_field_bits(fld);
			apiary_u128 v = (apiary_u128)rnd() << 64 | rnd();

			if ((sh->layers & need) != need)
				continue;
			if (fld == APIARY_F_ETH_TYPE || fld == APIARY_F_IP_PROTO || fld == APIARY_F_IP6_PROTO)
				continue; /* fixed by the shape */
			if (w < 128)
				v &= ((apiary_u128)1 << w) - 1;
			apiary_pkt_field_set(&f, fld, v);
		}
		len = apiary_packet_build(&f, fr, sizeof(fr));
		assert_true(len > 0);
		apiary_packet_parse(fr, (size_t)len, &p);
		assert_int_equal(p.layers, sh->layers);
		hp += apiary_pred_eval(preds[0], &p);
		hq += apiary_pred_eval(preds[1], &p);
		hpq += apiary_pred_eval(preds[0], &p) && apiary_pred_eval(preds[1], &p);
	}
	print_message("100000 random frames: P %zu, Q %zu, P&Q %zu\n", hp, hq, hpq);
	assert_int_equal(hpq, 0);
	assert_true(hq < 10); /* about 100000 * (5/18) / 65536 */
}

/* ---- caps, stops, errors ------------------------------------------- */

static void test_cap_and_stop(void **state)
{
	const struct apiary_pred *preds[2];
	struct apiary_z3gen *g;
	struct seen_pkts s;
	const struct apiary_z3gen_stats *st;

	pb_reset();
	preds[0] = P_IN(APIARY_F_L4_DPORT, L_RANGE(1000, 2000));
	preds[1] = P_NOT(P_HAS(APIARY_F_TCP_FLAGS, 0x10));
	g = apiary_z3gen_new(&(struct apiary_z3gen_opts){ .sz = sizeof(struct apiary_z3gen_opts),
							  .max_packets = 3 });
	assert_non_null(g);
	apiary_z3gen_add(g, preds[0], "a");
	apiary_z3gen_add(g, preds[1], "b");
	seen_init(&s, preds, 2, 16);
	assert_int_equal(apiary_z3gen_run(g, check_cb, &s), 0);
	st = apiary_z3gen_stats(g);
	assert_int_equal(s.count, 3);
	assert_int_equal(st->generated, 3);
	assert_int_equal(st->capped, 1);
	assert_true(st->skipped > 0); /* the report can say what was not asked */
	seen_free(&s);

	/* The callback's nonzero value stops the run and comes back. Stats
	 * reset on a new run. */
	seen_init(&s, preds, 2, 16);
	s.stop_after = 2;
	assert_int_equal(apiary_z3gen_run(g, check_cb, &s), 7);
	assert_int_equal(s.count, 2);
	assert_int_equal(apiary_z3gen_stats(g)->generated, 2);
	assert_int_equal(apiary_z3gen_stats(g)->skipped, 0);
	seen_free(&s);
	apiary_z3gen_free(g);

	/* Bad arguments. */
	errno = 0;
	assert_null(apiary_z3gen_new(&(struct apiary_z3gen_opts){
		.sz = sizeof(struct apiary_z3gen_opts), .shapes = 1ull << 63 }));
	assert_int_equal(errno, EINVAL);
	g = apiary_z3gen_new(NULL);
	assert_int_equal(apiary_z3gen_add(g, NULL, "x"), -EINVAL);
	assert_int_equal(apiary_z3gen_add(NULL, preds[0], "x"), -EINVAL);
	assert_int_equal(apiary_z3gen_run(NULL, NULL, NULL), -EINVAL);
	/* No predicates: nothing to ask, no packets. */
	assert_int_equal(apiary_z3gen_run(g, NULL, NULL), 0);
	assert_int_equal(apiary_z3gen_stats(g)->generated, 0);
	apiary_z3gen_free(g);
	apiary_z3gen_free(NULL);
}

/* Contradictions are counted, not generated. */
static void test_unsat_counted(void **state)
{
	const struct apiary_pred *preds[2];
	struct apiary_z3gen *g;
	struct seen_pkts s;

	pb_reset();
	preds[0] = P_AND(EQ(APIARY_F_TCP_DPORT, L_INT(23)), P_NOT(EQ(APIARY_F_L4_DPORT, L_INT(23))));
	preds[1] = P_IN(APIARY_F_TCP_DPORT, L_RANGE(10, 30));
	g = apiary_z3gen_new(&(struct apiary_z3gen_opts){ .sz = sizeof(struct apiary_z3gen_opts),
							  .kinds = APIARY_Z3K_INSIDE | APIARY_Z3K_OVERLAP |
								   APIARY_Z3K_DIFF });
	assert_non_null(g);
	apiary_z3gen_add(g, preds[0], "never");
	apiary_z3gen_add(g, preds[1], "range");
	seen_init(&s, preds, 2, 64);
	assert_int_equal(apiary_z3gen_run(g, check_cb, &s), 0);
	assert_int_equal(s.mismatches, 0);
	/* inside never, never & range, never & !range: empty; range & !never: found. */
	assert_int_equal(apiary_z3gen_stats(g)->empty, 3);
	assert_int_equal(s.by_kind[kind_bit(APIARY_Z3K_OVERLAP)], 0);
	/* range & !never: found, unless equal to an inside packet of range. */
	assert_int_equal(s.by_kind[kind_bit(APIARY_Z3K_DIFF)] + apiary_z3gen_stats(g)->duplicates, 1);
	seen_free(&s);
	apiary_z3gen_free(g);
}

/* Predicates straight from spec text (the parser's AST): effects, covers
 * and the classifier's match of a bundle, including the two narrow rules. */
static void test_from_spec(void **state)
{
	static const char text[] =
		"bundle b version 1\n"
		"classifier conn at xdp { key ip.src, l4.dport match ip.proto == tcp or ip6.proto == tcp }\n"
		"enforcer fw team sec version 1 at xdp {\n"
		"  source \"fw.c\"\n"
		"  effect drop when ip.src == 198.51.100.77\n"
		"  effect drop when not (tcp.flags has syn and tcp.flags has ack) and tcp.dport in 1..1023\n"
		"}\n"
		"enforcer lb team net version 1 at xdp {\n"
		"  source \"lb.c\"\n"
		"  effect tx when tcp.dport == 8443\n"
		"  effect pass when eth.type == arp or vlan.id in {10, 20, 4095} or icmp.type == 8\n"
		"}\n"
		"cover lb sees ip6.dst in 2001:db8::/64 and l4.dport >= 49152\n";
	struct apiary_diags d;
	struct apiary_spec *spec = NULL;
	const struct apiary_pred *preds[8];
	char labels[8][64];
	struct apiary_z3gen *g;
	struct seen_pkts s;
	size_t n = 0, pq = 0;

	apiary_diags_init(&d);
	assert_int_equal(apiary_spec_parse("inline.spec", text, sizeof(text) - 1, &spec, &d), 0);
	assert_int_equal(d.errors, 0);
	g = apiary_z3gen_new(NULL);
	assert_non_null(g);
	preds[n] = spec->classifier->match;
	snprintf(labels[n], sizeof(labels[n]), "match");
	assert_int_equal(apiary_z3gen_add(g, preds[n], labels[n]), (int)n);
	n++;
	for (size_t e = 0; e < spec->nenforcers; e++) {
		for (size_t k = 0; k < spec->enforcers[e].neffects; k++) {
			preds[n] = spec->enforcers[e].effects[k].when;
			snprintf(labels[n], sizeof(labels[n]), "%s.effect%zu", spec->enforcers[e].name.s, k);
			assert_int_equal(apiary_z3gen_add(g, preds[n], labels[n]), (int)n);
			n++;
		}
	}
	preds[n] = spec->covers[0].sees;
	assert_int_equal(apiary_z3gen_add(g, preds[n], "cover lb"), (int)n);
	n++;
	assert_int_equal(n, 6);
	seen_init(&s, preds, n, 4096);
	assert_int_equal(apiary_z3gen_run(g, check_cb, &s), 0);
	assert_int_equal(s.mismatches, 0);
	assert_int_equal(apiary_z3gen_stats(g)->unknown, 0);
	/* fw.effect0 (ip.src == 198.51.100.77) & lb.effect0 (tcp.dport == 8443) */
	for (size_t i = 0; i < s.count && i < s.cap; i++)
		if (s.kinds[i] == APIARY_Z3K_OVERLAP && apiary_pred_eval(preds[1], &s.fields[i]) &&
		    apiary_pred_eval(preds[3], &s.fields[i]))
			pq++;
	assert_true(pq >= 1);
	/* vlan set {10, 20, 4095}: 9..11, 19..21, 4094 and 4095 (no 4096) */
	for (unsigned v = 9; v <= 11; v++)
		assert_true(has_boundary(&s, APIARY_F_VLAN_ID, v));
	for (unsigned v = 19; v <= 21; v++)
		assert_true(has_boundary(&s, APIARY_F_VLAN_ID, v));
	assert_true(has_boundary(&s, APIARY_F_VLAN_ID, 4094));
	assert_true(has_boundary(&s, APIARY_F_VLAN_ID, 4095));
	assert_true(has_boundary(&s, APIARY_F_TCP_DPORT, 1024));
	assert_true(has_boundary(&s, APIARY_F_L4_DPORT, 49151));
	print_message("from spec: %zu packets, %zu queries\n", s.count, apiary_z3gen_stats(g)->queries);
	seen_free(&s);
	apiary_z3gen_free(g);
	apiary_spec_free(spec);
	apiary_diags_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bundle_predicates),
		cmocka_unit_test(test_defaults_kept),
		cmocka_unit_test(test_other_shapes),
		cmocka_unit_test(test_random_agreement),
		cmocka_unit_test(test_narrow_overlap),
		cmocka_unit_test(test_cap_and_stop),
		cmocka_unit_test(test_unsat_counted),
		cmocka_unit_test(test_from_spec),
	};

	if (getenv("TEST_FILTER"))
		cmocka_set_test_filter(getenv("TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
