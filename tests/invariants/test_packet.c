// SPDX-License-Identifier: MIT
/*
 * Packet model: build/parse round trips with independently verified
 * checksums, parser edge cases, describe text, and predicate truth tables.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "apiary/packet.h"
#include "pred_build.h"

/* ---- independent checksum verification -------------------------------- */

/* Verify a one's complement checksum the receiver's way: the sum over the
 * data including the stored checksum (and any pseudo-header) folds to
 * 0xffff. Written separately from packet.c on purpose. */
static int sum_ok(const uint8_t *pseudo, size_t plen, const uint8_t *d, size_t n)
{
	uint64_t s = 0;
	uint8_t tmp[2048 + 40];

	assert_true(plen + n + 1 <= sizeof(tmp));
	if (plen)
		memcpy(tmp, pseudo, plen);
	memcpy(tmp + plen, d, n);
	tmp[plen + n] = 0;
	for (size_t i = 0; i < plen + n; i += 2)
		s += (uint64_t)tmp[i] * 256 + tmp[i + 1];
	while (s > 0xffff)
		s = (s >> 16) + (s & 0xffff);
	return s == 0xffff;
}

/* Check every checksum in a frame built by apiary_packet_build. */
static void verify_checksums(const uint8_t *fr, size_t len, uint32_t layers)
{
	size_t l3 = (layers & APIARY_L_VLAN) ? 18 : 14, l4;
	uint8_t ph[40];
	size_t phl;
	uint8_t proto;

	if (layers & APIARY_L_IPV4) {
		size_t ihl = (fr[l3] & 0xf) * 4u;
		size_t tot = (size_t)fr[l3 + 2] << 8 | fr[l3 + 3];

		assert_int_equal(tot, len - l3);
		assert_true(sum_ok(NULL, 0, fr + l3, ihl));
		l4 = l3 + ihl;
		proto = fr[l3 + 9];
		memcpy(ph, fr + l3 + 12, 8);
		ph[8] = 0;
		ph[9] = proto;
		ph[10] = (uint8_t)((len - l4) >> 8);
		ph[11] = (uint8_t)(len - l4);
		phl = 12;
		if (proto == 1)
			phl = 0; /* ICMPv4: no pseudo-header */
	} else if (layers & APIARY_L_IPV6) {
		size_t plen = (size_t)fr[l3 + 4] << 8 | fr[l3 + 5];

		assert_int_equal(plen, len - l3 - 40);
		l4 = l3 + 40;
		proto = fr[l3 + 6];
		memcpy(ph, fr + l3 + 8, 32);
		ph[32] = 0;
		ph[33] = 0;
		ph[34] = (uint8_t)((len - l4) >> 8);
		ph[35] = (uint8_t)(len - l4);
		ph[36] = ph[37] = ph[38] = 0;
		ph[39] = proto;
		phl = 40;
	} else {
		return;
	}
	if (layers & (APIARY_L_TCP | APIARY_L_UDP | APIARY_L_ICMP)) {
		if (layers & APIARY_L_UDP) {
			size_t ulen = (size_t)fr[l4 + 4] << 8 | fr[l4 + 5];

			assert_int_equal(ulen, len - l4);
			assert_true(fr[l4 + 6] || fr[l4 + 7]); /* 0 would mean "none" */
		}
		assert_true(sum_ok(ph, phl, fr + l4, len - l4));
	}
}

/* Fill fields with values that differ from the defaults, per layer. */
static void odd_values(struct apiary_pkt_fields *f, unsigned seed)
{
	for (int i = 0; i < 6; i++) {
		f->eth_src[i] = (uint8_t)(0x10 + i + seed);
		f->eth_dst[i] = (uint8_t)(0xa0 + i * 3 + seed);
	}
	f->vlan_id = (uint16_t)((0xabc + seed) & 0xfff);
	f->vlan_pcp = (uint8_t)(seed & 7);
	memcpy(f->ip_src, (uint8_t[]){ 198, 51, 100, (uint8_t)(77 + seed) }, 4);
	memcpy(f->ip_dst, (uint8_t[]){ 203, 0, 113, (uint8_t)(9 + seed) }, 4);
	f->ip_ttl = (uint8_t)(1 + seed);
	f->ip_id = (uint16_t)(0x1234 + seed);
	f->ip_tos = 0x10;
	for (int i = 0; i < 16; i++) {
		f->ip6_src[i] = (uint8_t)(0xfe + i * 7 + seed);
		f->ip6_dst[i] = (uint8_t)(0x20 + i * 11 + seed);
	}
	f->ip6_ttl = (uint8_t)(255 - seed);
	f->sport = (uint16_t)(65535 - seed);
	f->dport = (uint16_t)(8443 + seed);
	f->tcp_flags = 0x12;
	f->tcp_seq = 0xdeadbeef;
	f->tcp_ack = 0x01020304;
	f->tcp_win = 1234;
	f->icmp_type = 3;
	f->icmp_code = 1;
	f->payload_len = (uint16_t)(seed * 7 % 101); /* odd lengths too */
	if ((f->layers & APIARY_L_VLAN) && (seed & 1))
		f->eth_type = APIARY_ETH_P_QINQ; /* 802.1ad outer tag */
}

static void expect_same(const struct apiary_pkt_fields *a, const struct apiary_pkt_fields *b)
{
	assert_int_equal(a->layers, b->layers);
	for (int id = 0; id < APIARY_F__COUNT; id++) {
		apiary_u128 va = 0, vb = 0;
		bool ha = apiary_pkt_field_get(a, id, &va), hb = apiary_pkt_field_get(b, id, &vb);

		assert_int_equal(ha, hb);
		if (ha)
			assert_true(va == vb);
	}
	assert_int_equal(a->payload_len, b->payload_len);
	if (a->layers & APIARY_L_VLAN) {
		assert_int_equal(a->vlan_pcp, b->vlan_pcp);
		assert_int_equal(a->vlan_proto, b->vlan_proto);
	}
	if (a->layers & APIARY_L_TCP) {
		assert_int_equal(a->tcp_seq, b->tcp_seq);
		assert_int_equal(a->tcp_ack, b->tcp_ack);
		assert_int_equal(a->tcp_win, b->tcp_win);
	}
	if (a->layers & APIARY_L_ICMP)
		assert_int_equal(a->icmp_code, b->icmp_code);
	if (a->layers & APIARY_L_IPV4) {
		assert_int_equal(a->ip_ihl ? a->ip_ihl : 5, b->ip_ihl);
		assert_int_equal(a->ip_id, b->ip_id);
		assert_int_equal(a->ip_tos, b->ip_tos);
		assert_int_equal(a->ip_frag, b->ip_frag);
	}
}

/* Every shape, default and odd values, IHL 5..15: build, verify checksums
 * independently, parse back to the same fields. */
static void test_roundtrip_all_shapes(void **state)
{
	uint8_t fr[2048];
	struct apiary_pkt_fields f, g;
	int n = 0;

	for (size_t s = 0; s < apiary_pkt_nshapes; s++) {
		for (unsigned seed = 0; seed < 12; seed++) {
			long len;

			apiary_pkt_fields_default(&f, apiary_pkt_shapes[s].layers);
			if (seed)
				odd_values(&f, seed);
			if (f.layers & APIARY_L_IPV4)
				f.ip_ihl = (uint8_t)(5 + seed % 11);
			len = apiary_packet_build(&f, fr, sizeof(fr));
			assert_true(len >= 14);
			verify_checksums(fr, (size_t)len, f.layers);
			assert_int_equal(apiary_packet_parse(fr, (size_t)len, &g), f.layers);
			assert_int_equal(g.len, len);
			expect_same(&f, &g);
			/* The frame round-trips byte for byte through its fields. */
			{
				uint8_t fr2[2048];
				long len2 = apiary_packet_build(&g, fr2, sizeof(fr2));

				assert_int_equal(len2, len);
				assert_memory_equal(fr, fr2, (size_t)len);
			}
			n++;
		}
	}
	assert_int_equal(n, (int)apiary_pkt_nshapes * 12);
}

/* Exact bytes of the default IPv4/TCP SYN against a hand-checked frame. */
static void test_default_bytes(void **state)
{
	static const uint8_t want[] = {
		2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00,
		0x45, 0x00, 0x00, 0x28, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00,
		10, 0, 0, 1, 192, 0, 2, 10,
		0x9c, 0x40, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff,
		0x00, 0x00, 0x00, 0x00,
	};
	uint8_t fr[128], exp[sizeof(want)];
	struct apiary_pkt_fields f;
	long len;

	apiary_pkt_fields_default(&f, apiary_pkt_shapes[0].layers);
	len = apiary_packet_build(&f, fr, sizeof(fr));
	assert_int_equal(len, sizeof(want));
	/* Compare everything but the two checksums, verified separately. */
	memcpy(exp, want, sizeof(want));
	memcpy(exp + 24, fr + 24, 2);
	memcpy(exp + 50, fr + 50, 2);
	assert_memory_equal(fr, exp, sizeof(want));
	verify_checksums(fr, (size_t)len, f.layers);
	/* Known value: IPv4 header checksum of this header. */
	assert_int_equal(fr[24] << 8 | fr[25], 0x6ec5);
}

static void test_build_errors(void **state)
{
	uint8_t fr[64];
	struct apiary_pkt_fields f;

	apiary_pkt_fields_default(&f, APIARY_L_ETH | APIARY_L_IPV4 | APIARY_L_TCP | APIARY_L_L4);
	assert_int_equal(apiary_packet_build(&f, fr, 40), -ENOSPC);
	assert_int_equal(apiary_packet_build(&f, fr, 54), 54);
	f.layers = APIARY_L_IPV4;
	assert_int_equal(apiary_packet_build(&f, fr, sizeof(fr)), -EINVAL);
	f.layers = APIARY_L_ETH | APIARY_L_IPV4 | APIARY_L_IPV6;
	assert_int_equal(apiary_packet_build(&f, fr, sizeof(fr)), -EINVAL);
	f.layers = APIARY_L_ETH | APIARY_L_TCP;
	assert_int_equal(apiary_packet_build(&f, fr, sizeof(fr)), -EINVAL);
	f.layers = APIARY_L_ETH | APIARY_L_IPV4 | APIARY_L_TCP | APIARY_L_UDP;
	assert_int_equal(apiary_packet_build(&f, fr, sizeof(fr)), -EINVAL);
	f.layers = APIARY_L_ETH | APIARY_L_IPV4;
	f.ip_ihl = 4;
	assert_int_equal(apiary_packet_build(&f, fr, sizeof(fr)), -EINVAL);
}

/* Parser edge cases: runts, truncated and malformed headers, fragments,
 * IHL, a second VLAN tag, ICMPv6, eth.type after the tag. */
static void test_parse_edges(void **state)
{
	uint8_t fr[256] = { 0 };
	struct apiary_pkt_fields f, g;
	long len;
	uint32_t tcp4 = APIARY_L_ETH | APIARY_L_IPV4 | APIARY_L_TCP | APIARY_L_L4;

	assert_int_equal(apiary_packet_parse(fr, 13, &g), 0);
	assert_int_equal(apiary_packet_parse(NULL, 0, &g), 0);

	apiary_pkt_fields_default(&f, tcp4);
	len = apiary_packet_build(&f, fr, sizeof(fr));
	/* TCP header cut short: IPv4 stays, TCP goes. */
	assert_int_equal(apiary_packet_parse(fr, (size_t)len - 1, &g), APIARY_L_ETH | APIARY_L_IPV4);
	assert_int_equal(g.payload_len, 19);
	/* IPv4 header cut short. */
	assert_int_equal(apiary_packet_parse(fr, 14 + 19, &g), APIARY_L_ETH);
	assert_int_equal(g.eth_type, APIARY_ETH_P_IPV4);
	/* IHL < 5 and wrong version. */
	fr[14] = 0x44;
	assert_int_equal(apiary_packet_parse(fr, (size_t)len, &g), APIARY_L_ETH);
	fr[14] = 0x55;
	assert_int_equal(apiary_packet_parse(fr, (size_t)len, &g), APIARY_L_ETH);
	/* IHL 15 beyond the frame. */
	fr[14] = 0x4f;
	assert_int_equal(apiary_packet_parse(fr, 14 + 59, &g), APIARY_L_ETH);
	fr[14] = 0x45;
	/* Non-first fragment: no L4. First fragment (MF, offset 0): L4. */
	fr[14 + 6] = 0x00;
	fr[14 + 7] = 0x10;
	assert_int_equal(apiary_packet_parse(fr, (size_t)len, &g), APIARY_L_ETH | APIARY_L_IPV4);
	fr[14 + 6] = 0x20;
	fr[14 + 7] = 0x00;
	assert_int_equal(apiary_packet_parse(fr, (size_t)len, &g), tcp4);

	/* TCP data offset < 5: not TCP (as the BPF parser). */
	apiary_pkt_fields_default(&f, tcp4);
	len = apiary_packet_build(&f, fr, sizeof(fr));
	fr[14 + 20 + 12] = 0x40;
	assert_int_equal(apiary_packet_parse(fr, (size_t)len, &g), APIARY_L_ETH | APIARY_L_IPV4);

	/* VLAN: eth.type is the outer type, vlan_proto the inner; one tag only. */
	apiary_pkt_fields_default(&f, tcp4 | APIARY_L_VLAN);
	len = apiary_packet_build(&f, fr, sizeof(fr));
	assert_int_equal(apiary_packet_parse(fr, (size_t)len, &g), tcp4 | APIARY_L_VLAN);
	assert_int_equal(g.eth_type, APIARY_ETH_P_VLAN);
	assert_int_equal(g.vlan_proto, APIARY_ETH_P_IPV4);
	assert_int_equal(g.vlan_id, 100);
	assert_int_equal(g.l3_off, 18);
	fr[16] = 0x81;
	fr[17] = 0x00; /* QinQ-ish: second tag is not followed */
	assert_int_equal(apiary_packet_parse(fr, (size_t)len, &g), APIARY_L_ETH | APIARY_L_VLAN);
	assert_int_equal(g.eth_type, APIARY_ETH_P_VLAN);
	assert_int_equal(g.vlan_proto, APIARY_ETH_P_VLAN);
	/* 802.1ad outer tag is a tag too. */
	fr[12] = 0x88;
	fr[13] = 0xa8;
	fr[16] = 0x08;
	fr[17] = 0x00;
	assert_int_equal(apiary_packet_parse(fr, (size_t)len, &g), tcp4 | APIARY_L_VLAN);
	assert_int_equal(g.eth_type, APIARY_ETH_P_QINQ);
	fr[12] = 0x81;
	fr[13] = 0x00;
	/* A tag that does not fit. */
	assert_int_equal(apiary_packet_parse(fr, 16, &g), APIARY_L_ETH);
	assert_int_equal(g.eth_type, APIARY_ETH_P_VLAN);

	/* ICMPv6 is the ICMP layer of IPv6; proto 1 in IPv6 is not. */
	apiary_pkt_fields_default(&f, APIARY_L_ETH | APIARY_L_IPV6 | APIARY_L_ICMP);
	len = apiary_packet_build(&f, fr, sizeof(fr));
	assert_int_equal(apiary_packet_parse(fr, (size_t)len, &g), f.layers);
	assert_int_equal(g.ip6_proto, 58);
	assert_int_equal(g.icmp_type, 128);
	fr[14 + 6] = 1;
	assert_int_equal(apiary_packet_parse(fr, (size_t)len, &g), APIARY_L_ETH | APIARY_L_IPV6);

	/* ARP body. */
	apiary_pkt_fields_default(&f, APIARY_L_ETH);
	len = apiary_packet_build(&f, fr, sizeof(fr));
	assert_int_equal(len, 42);
	assert_int_equal(apiary_packet_parse(fr, (size_t)len, &g), APIARY_L_ETH);
	assert_int_equal(g.eth_type, APIARY_ETH_P_ARP);
	assert_int_equal(g.payload_len, 0);
}

static void test_describe(void **state)
{
	uint8_t fr[256];
	char s[512];
	struct apiary_pkt_fields f;
	long len;
	int n;

	apiary_pkt_fields_default(&f, apiary_pkt_shapes[0].layers);
	len = apiary_packet_build(&f, fr, sizeof(fr));
	n = apiary_packet_describe(fr, (size_t)len, s, sizeof(s));
	assert_string_equal(s, "eth 02:00:00:00:00:01 -> 02:00:00:00:00:02 ipv4 | ipv4 10.0.0.1 -> "
			       "192.0.2.10 ttl 64 proto tcp | tcp 40000 -> 80 [S] | payload 0 bytes");
	assert_int_equal(n, (int)strlen(s));

	/* Truncation behaves like snprintf. */
	assert_int_equal(apiary_packet_describe(fr, (size_t)len, s, 10), n);
	assert_int_equal(strlen(s), 9);

	/* A corrupted TCP checksum and IPv4 checksum are flagged. */
	fr[len - 1] ^= 1;
	apiary_packet_describe(fr, (size_t)len, s, sizeof(s));
	assert_non_null(strstr(s, "[S] bad-csum"));
	assert_null(strstr(s, "tcp bad-csum"));
	fr[22] ^= 1; /* ttl */
	apiary_packet_describe(fr, (size_t)len, s, sizeof(s));
	assert_non_null(strstr(s, "ttl 65 proto tcp bad-csum"));

	apiary_pkt_fields_default(&f, APIARY_L_ETH | APIARY_L_VLAN | APIARY_L_IPV6 | APIARY_L_UDP |
					      APIARY_L_L4);
	f.payload_len = 5;
	len = apiary_packet_build(&f, fr, sizeof(fr));
	apiary_packet_describe(fr, (size_t)len, s, sizeof(s));
	assert_string_equal(s, "eth 02:00:00:00:00:01 -> 02:00:00:00:00:02 vlan | vlan 100 ipv6 | "
			       "ipv6 2001:db8::1 -> 2001:db8::10 hlim 64 next udp | udp 40000 -> 53 "
			       "| payload 5 bytes");

	apiary_pkt_fields_default(&f, APIARY_L_ETH | APIARY_L_IPV4 | APIARY_L_ICMP);
	len = apiary_packet_build(&f, fr, sizeof(fr));
	apiary_packet_describe(fr, (size_t)len, s, sizeof(s));
	assert_non_null(strstr(s, "proto icmp | icmp echo-request | payload 4 bytes"));
	assert_null(strstr(s, "bad"));

	apiary_pkt_fields_default(&f, APIARY_L_ETH);
	len = apiary_packet_build(&f, fr, sizeof(fr));
	apiary_packet_describe(fr, (size_t)len, s, sizeof(s));
	assert_string_equal(s, "eth 02:00:00:00:00:01 -> 02:00:00:00:00:02 arp | arp who-has "
			       "192.0.2.10 tell 10.0.0.1 | payload 0 bytes");

	apiary_pkt_fields_default(&f, APIARY_L_ETH | APIARY_L_IPV4 | APIARY_L_TCP | APIARY_L_L4);
	f.tcp_flags = 0x19;
	f.ip_ihl = 6;
	len = apiary_packet_build(&f, fr, sizeof(fr));
	apiary_packet_describe(fr, (size_t)len, s, sizeof(s));
	assert_non_null(strstr(s, "proto tcp ihl 6 | tcp 40000 -> 80 [FP.] | payload 0 bytes"));

	apiary_packet_describe(fr, 5, s, sizeof(s));
	assert_string_equal(s, "runt frame 5 bytes");
}

/* ---- predicate evaluation ------------------------------------------- */

static struct apiary_pkt_fields pkt(uint32_t layers)
{
	struct apiary_pkt_fields f;

	apiary_pkt_fields_default(&f, layers);
	return f;
}

#define TCP4 (APIARY_L_ETH | APIARY_L_IPV4 | APIARY_L_TCP | APIARY_L_L4)
#define UDP4 (APIARY_L_ETH | APIARY_L_IPV4 | APIARY_L_UDP | APIARY_L_L4)
#define TCP6 (APIARY_L_ETH | APIARY_L_IPV6 | APIARY_L_TCP | APIARY_L_L4)

/* Every comparison operator at 22, 23, 24 against 23. */
static void test_eval_cmp_ops(void **state)
{
	static const struct {
		enum apiary_cmp_op op;
		bool want[3]; /* dport 22, 23, 24 */
	} tab[] = {
		{ APIARY_OP_EQ, { 0, 1, 0 } }, { APIARY_OP_NE, { 1, 0, 1 } },
		{ APIARY_OP_LT, { 1, 0, 0 } }, { APIARY_OP_LE, { 1, 1, 0 } },
		{ APIARY_OP_GT, { 0, 0, 1 } }, { APIARY_OP_GE, { 0, 1, 1 } },
	};
	struct apiary_pkt_fields f = pkt(TCP4);

	pb_reset();
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		struct apiary_pred *p = P_CMP(APIARY_F_TCP_DPORT, tab[i].op, L_INT(23));

		for (int d = 0; d < 3; d++) {
			f.dport = (uint16_t)(22 + d);
			assert_int_equal(apiary_pred_eval(p, &f), tab[i].want[d]);
		}
	}
	/* Out-of-range literal: never equal, always less. */
	f.dport = 65535;
	assert_false(apiary_pred_eval(EQ(APIARY_F_TCP_DPORT, L_INT(70000)), &f));
	assert_true(apiary_pred_eval(P_CMP(APIARY_F_TCP_DPORT, APIARY_OP_LT, L_INT(70000)), &f));
	assert_true(apiary_pred_eval(NULL, &f));
}

/* A field implies its layer: tcp.dport == 23 is false for UDP port 23, and
 * its negation true; l4.dport sees both; missing layers make every op
 * false, including != and has 0. */
static void test_eval_layers(void **state)
{
	struct apiary_pkt_fields t = pkt(TCP4), u = pkt(UDP4), a = pkt(APIARY_L_ETH);
	struct apiary_pred *tcp23, *ntcp23, *l4, *ne, *has0;

	pb_reset();
	t.dport = u.dport = 23;
	tcp23 = EQ(APIARY_F_TCP_DPORT, L_INT(23));
	ntcp23 = P_NOT(tcp23);
	l4 = EQ(APIARY_F_L4_DPORT, L_INT(23));
	ne = P_CMP(APIARY_F_TCP_DPORT, APIARY_OP_NE, L_INT(23));
	has0 = P_HAS(APIARY_F_TCP_FLAGS, 0);

	assert_true(apiary_pred_eval(tcp23, &t));
	assert_false(apiary_pred_eval(tcp23, &u));
	assert_false(apiary_pred_eval(ntcp23, &t));
	assert_true(apiary_pred_eval(ntcp23, &u));
	assert_true(apiary_pred_eval(ntcp23, &a));
	assert_true(apiary_pred_eval(l4, &t));
	assert_true(apiary_pred_eval(l4, &u));
	assert_false(apiary_pred_eval(l4, &a));
	assert_false(apiary_pred_eval(ne, &u)); /* != needs the layer too */
	assert_true(apiary_pred_eval(ne, &(struct apiary_pkt_fields){ .layers = TCP4, .dport = 1 }));
	assert_true(apiary_pred_eval(has0, &t));
	assert_false(apiary_pred_eval(has0, &u));
	assert_true(apiary_pred_eval(EQ(APIARY_F_UDP_DPORT, L_INT(23)), &u));
	assert_false(apiary_pred_eval(EQ(APIARY_F_UDP_DPORT, L_INT(23)), &t));

	/* ip.* is IPv4 only, ip6.* IPv6 only. */
	{
		struct apiary_pkt_fields s6 = pkt(TCP6);
		struct apiary_pred *ttl4 = EQ(APIARY_F_IP_TTL, L_INT(64));
		struct apiary_pred *ttl6 = EQ(APIARY_F_IP6_TTL, L_INT(64));

		assert_true(apiary_pred_eval(ttl4, &t));
		assert_false(apiary_pred_eval(ttl4, &s6));
		assert_true(apiary_pred_eval(ttl6, &s6));
		assert_false(apiary_pred_eval(ttl6, &t));
		assert_true(apiary_pred_eval(EQ(APIARY_F_TCP_DPORT, L_INT(80)), &s6));
	}
	/* eth.type is the outer type (the tag's); vlan.id needs the tag. */
	{
		struct apiary_pkt_fields v = pkt(TCP4 | APIARY_L_VLAN);

		assert_false(apiary_pred_eval(EQ(APIARY_F_ETH_TYPE, L_INT(0x0800)), &v));
		assert_true(apiary_pred_eval(EQ(APIARY_F_ETH_TYPE, L_INT(0x8100)), &v));
		assert_true(apiary_pred_eval(EQ(APIARY_F_ETH_TYPE, L_INT(0x0800)), &t));
		assert_true(apiary_pred_eval(EQ(APIARY_F_VLAN_ID, L_INT(100)), &v));
		assert_false(apiary_pred_eval(EQ(APIARY_F_VLAN_ID, L_INT(100)), &t));
		assert_true(apiary_pred_eval(P_NOT(P_CMP(APIARY_F_VLAN_ID, APIARY_OP_LT, L_INT(4096))), &t));
	}
}

/* CIDR: first and last address in, the neighbours out; ranges, sets of
 * values and CIDRs, `==` against a CIDR, IPv6, MAC and ordering compares. */
static void test_eval_in(void **state)
{
	struct apiary_pkt_fields f = pkt(TCP4), s6 = pkt(TCP6);
	struct apiary_pred *cidr, *rng, *set, *eqc, *c6, *lt, *mac;
	static const struct {
		uint8_t a[4];
		bool in;
	} ips[] = {
		{ { 10, 65, 255, 255 }, 0 }, { { 10, 66, 0, 0 }, 1 },  { { 10, 66, 3, 4 }, 1 },
		{ { 10, 66, 255, 255 }, 1 }, { { 10, 67, 0, 0 }, 0 },
	};

	pb_reset();
	cidr = P_IN(APIARY_F_IP_SRC, L_IP4("10.66.0.0", 16));
	eqc = EQ(APIARY_F_IP_SRC, L_IP4("10.66.9.9", 16)); /* host bits ignored */
	for (size_t i = 0; i < sizeof(ips) / sizeof(ips[0]); i++) {
		memcpy(f.ip_src, ips[i].a, 4);
		assert_int_equal(apiary_pred_eval(cidr, &f), ips[i].in);
		assert_int_equal(apiary_pred_eval(eqc, &f), ips[i].in);
	}
	memcpy(f.ip_src, (uint8_t[]){ 1, 2, 3, 4 }, 4);
	assert_true(apiary_pred_eval(P_IN(APIARY_F_IP_SRC, L_IP4("0.0.0.0", 0)), &f));
	assert_true(apiary_pred_eval(EQ(APIARY_F_IP_SRC, L_IP4("1.2.3.4", 32)), &f));
	assert_false(apiary_pred_eval(EQ(APIARY_F_IP_SRC, L_IP4("1.2.3.5", 32)), &f));
	/* Addresses compare as in the packet (big-endian). */
	lt = P_CMP(APIARY_F_IP_SRC, APIARY_OP_LT, L_IP4("1.2.4.0", 32));
	assert_true(apiary_pred_eval(lt, &f));
	memcpy(f.ip_src, (uint8_t[]){ 1, 3, 0, 0 }, 4);
	assert_false(apiary_pred_eval(lt, &f));

	rng = P_IN(APIARY_F_TCP_SPORT, L_RANGE(1024, 2048));
	for (unsigned p = 1022; p <= 2050; p++) {
		f.sport = (uint16_t)p;
		assert_int_equal(apiary_pred_eval(rng, &f), p >= 1024 && p <= 2048);
	}

	set = P_IN(APIARY_F_IP_DST,
		   L_SET(3, L_IP4("192.0.2.10", 32), L_IP4("203.0.113.0", 24), L_IP4("8.8.8.8", 32)));
	memcpy(f.ip_dst, (uint8_t[]){ 192, 0, 2, 10 }, 4);
	assert_true(apiary_pred_eval(set, &f));
	memcpy(f.ip_dst, (uint8_t[]){ 203, 0, 113, 200 }, 4);
	assert_true(apiary_pred_eval(set, &f));
	memcpy(f.ip_dst, (uint8_t[]){ 203, 0, 114, 0 }, 4);
	assert_false(apiary_pred_eval(set, &f));
	memcpy(f.ip_dst, (uint8_t[]){ 192, 0, 2, 11 }, 4);
	assert_false(apiary_pred_eval(set, &f));
	f.dport = 443;
	assert_true(apiary_pred_eval(P_IN(APIARY_F_TCP_DPORT, L_SET(3, L_INT(22), L_INT(80), L_INT(443))), &f));
	assert_false(apiary_pred_eval(P_IN(APIARY_F_TCP_DPORT, L_SET(2, L_INT(22), L_INT(80))), &f));
	assert_false(apiary_pred_eval(P_IN(APIARY_F_TCP_DPORT, L_SET(0)), &f));

	c6 = P_IN(APIARY_F_IP6_SRC, L_IP6("2001:db8::", 32));
	assert_true(apiary_pred_eval(c6, &s6));
	s6.ip6_src[3] = 0xb9;
	assert_false(apiary_pred_eval(c6, &s6));
	assert_true(apiary_pred_eval(P_IN(APIARY_F_IP6_SRC, L_IP6("2001:db9::", 32)), &s6));
	assert_false(apiary_pred_eval(c6, &f)); /* IPv4 packet: no ip6.src */

	mac = EQ(APIARY_F_ETH_SRC, L_MAC((const uint8_t[]){ 2, 0, 0, 0, 0, 1 }));
	assert_true(apiary_pred_eval(mac, &f));
	f.eth_src[5] = 9;
	assert_false(apiary_pred_eval(mac, &f));
	assert_true(apiary_pred_eval(P_CMP(APIARY_F_ETH_SRC, APIARY_OP_GT,
					   L_MAC((const uint8_t[]){ 2, 0, 0, 0, 0, 8 })), &f));
}

/* has: all bits of the literal set. */
static void test_eval_has(void **state)
{
	struct apiary_pkt_fields f = pkt(TCP4);
	struct apiary_pred *syn, *synack;

	pb_reset();
	syn = P_HAS(APIARY_F_TCP_FLAGS, 0x02);
	synack = P_HAS(APIARY_F_TCP_FLAGS, 0x12);
	for (unsigned fl = 0; fl < 256; fl++) {
		f.tcp_flags = (uint8_t)fl;
		assert_int_equal(apiary_pred_eval(syn, &f), (fl & 0x02) != 0);
		assert_int_equal(apiary_pred_eval(synack, &f), (fl & 0x12) == 0x12);
	}
	assert_false(apiary_pred_eval(P_HAS(APIARY_F_TCP_FLAGS, 0x100), &f));
}

/* and/or/not truth tables over two tests. */
static void test_eval_connectives(void **state)
{
	struct apiary_pkt_fields f = pkt(TCP4);
	struct apiary_pred *a, *b, *and, *or, *nand, *nn;

	pb_reset();
	a = EQ(APIARY_F_TCP_DPORT, L_INT(23));
	b = P_IN(APIARY_F_IP_SRC, L_IP4("10.66.0.0", 16));
	and = P_AND(a, b);
	or = P_OR(a, b);
	nand = P_NOT(and);
	nn = P_NOT(P_NOT(a));
	for (int x = 0; x < 2; x++) {
		for (int y = 0; y < 2; y++) {
			f.dport = x ? 23 : 24;
			memcpy(f.ip_src, y ? (uint8_t[]){ 10, 66, 1, 1 } : (uint8_t[]){ 10, 67, 1, 1 }, 4);
			assert_int_equal(apiary_pred_eval(and, &f), x && y);
			assert_int_equal(apiary_pred_eval(or, &f), x || y);
			assert_int_equal(apiary_pred_eval(nand, &f), !(x && y));
			assert_int_equal(apiary_pred_eval(nn, &f), x);
		}
	}
}

/* The packet model's widths agree with the spec's field table. */
static void test_field_table(void **state)
{
	for (int i = 0; i < APIARY_F__COUNT; i++) {
		assert_int_equal(apiary_fields[i].id, i);
		assert_int_equal(apiary_pkt_field_bits(i), apiary_fields[i].bits);
		assert_true(apiary_pkt_field_layers(i) != 0);
	}
	assert_int_equal(apiary_pkt_field_bits(APIARY_F__COUNT), 0);
}

/* Field set/get round trip through numbers, including 128-bit values. */
static void test_field_numbers(void **state)
{
	struct apiary_pkt_fields f = pkt(TCP6 | APIARY_L_VLAN);
	apiary_u128 v, want = ((apiary_u128)0x20010db800000000ull << 64) | 0x0123456789abcdefull;

	apiary_pkt_field_set(&f, APIARY_F_IP6_DST, want);
	assert_true(apiary_pkt_field_get(&f, APIARY_F_IP6_DST, &v));
	assert_true(v == want);
	assert_int_equal(f.ip6_dst[0], 0x20);
	assert_int_equal(f.ip6_dst[15], 0xef);
	apiary_pkt_field_set(&f, APIARY_F_VLAN_ID, 0x1fff);
	assert_true(apiary_pkt_field_get(&f, APIARY_F_VLAN_ID, &v));
	assert_true(v == 0xfff);
	apiary_pkt_field_set(&f, APIARY_F_L4_DPORT, 8443);
	assert_true(apiary_pkt_field_get(&f, APIARY_F_TCP_DPORT, &v));
	assert_true(v == 8443);
	assert_false(apiary_pkt_field_get(&f, APIARY_F_UDP_DPORT, &v));
	assert_false(apiary_pkt_field_get(&f, APIARY_F_IP_SRC, &v));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_all_shapes),
		cmocka_unit_test(test_default_bytes),
		cmocka_unit_test(test_build_errors),
		cmocka_unit_test(test_parse_edges),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_eval_cmp_ops),
		cmocka_unit_test(test_eval_layers),
		cmocka_unit_test(test_eval_in),
		cmocka_unit_test(test_eval_has),
		cmocka_unit_test(test_eval_connectives),
		cmocka_unit_test(test_field_table),
		cmocka_unit_test(test_field_numbers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
