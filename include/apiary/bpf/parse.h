/* SPDX-License-Identifier: MIT */
/*
 * Verifier-safe, bounded packet parser for BPF C: fills struct apiary_pkt
 * (abi.h) from [data, data_end). Works from XDP (xdp_md) and tc (__sk_buff)
 * alike because it only sees the two packet pointers:
 *
 *	apiary_parse(&pkt, (void *)(long)ctx->data, (void *)(long)ctx->data_end);
 *
 * Parsed: Ethernet, one 802.1Q (or 802.1ad) tag, IPv4 with options (IHL),
 * the fixed IPv6 header, TCP, UDP, ICMP/ICMPv6. A layer's bit is set in
 * pkt->layers only when its whole header is inside the packet, so the
 * predicate code can test a layer before reading its fields. No loops: the
 * verifier sees a straight line of bounds checks.
 *
 * Also the small helpers the generated predicate code uses to compare
 * addresses with constants written as immediates (no .rodata needed).
 */
#ifndef APIARY_BPF_PARSE_H
#define APIARY_BPF_PARSE_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "../abi.h"

/* Layer bits of struct apiary_pkt.layers; same values as enum apiary_layer
 * in spec.h (user space), which BPF C does not include. */
#ifndef APIARY_SPEC_H
#define APIARY_L_ETH (1u << 0)
#define APIARY_L_VLAN (1u << 1)
#define APIARY_L_IPV4 (1u << 2)
#define APIARY_L_IPV6 (1u << 3)
#define APIARY_L_TCP (1u << 4)
#define APIARY_L_UDP (1u << 5)
#define APIARY_L_ICMP (1u << 6)
#define APIARY_L_L4 (1u << 7)
#endif

#define APIARY_ETH_P_IP 0x0800
#define APIARY_ETH_P_IPV6 0x86dd
#define APIARY_ETH_P_8021Q 0x8100
#define APIARY_ETH_P_8021AD 0x88a8
#define APIARY_IPPROTO_ICMP 1
#define APIARY_IPPROTO_TCP 6
#define APIARY_IPPROTO_UDP 17
#define APIARY_IPPROTO_ICMPV6 58

/* Headers spelled out here so this file does not depend on which of the
 * kernel's uapi network headers the enforcer's own source pulls in. */
struct apiary_hdr_eth {
	__u8 dst[6];
	__u8 src[6];
	__be16 proto;
};

struct apiary_hdr_vlan {
	__be16 tci;
	__be16 proto;
};

struct apiary_hdr_ip4 {
	__u8 ver_ihl;
	__u8 tos;
	__be16 tot_len;
	__be16 id;
	__be16 frag_off;
	__u8 ttl;
	__u8 protocol;
	__sum16 check;
	__be32 saddr;
	__be32 daddr;
};

struct apiary_hdr_ip6 {
	__be32 ver_tc_flow;
	__be16 payload_len;
	__u8 nexthdr;
	__u8 hop_limit;
	__u8 saddr[16];
	__u8 daddr[16];
};

struct apiary_hdr_ports {
	__be16 source;
	__be16 dest;
};

/* Parse the L4 header at `pos` (proto from IPv4/IPv6). TCP needs its full
 * 20-byte header and a sane data offset; UDP 8 bytes; ICMP 4 bytes. */
static __always_inline void apiary__parse_l4(struct apiary_pkt *p, void *data, void *pos,
					     void *data_end, __u8 proto, int v6)
{
	if (proto == APIARY_IPPROTO_TCP) {
		__u8 *tcp = pos;
		__u32 doff;

		if ((void *)(tcp + 20) > data_end)
			return;
		doff = (tcp[12] >> 4) * 4;
		if (doff < 20)
			return;
		p->sport = bpf_ntohs(((struct apiary_hdr_ports *)tcp)->source);
		p->dport = bpf_ntohs(((struct apiary_hdr_ports *)tcp)->dest);
		p->tcp_flags = tcp[13];
		p->layers |= APIARY_L_TCP | APIARY_L_L4;
		p->payload_off = (__u16)((void *)tcp - data) + doff;
	} else if (proto == APIARY_IPPROTO_UDP) {
		__u8 *udp = pos;

		if ((void *)(udp + 8) > data_end)
			return;
		p->sport = bpf_ntohs(((struct apiary_hdr_ports *)udp)->source);
		p->dport = bpf_ntohs(((struct apiary_hdr_ports *)udp)->dest);
		p->layers |= APIARY_L_UDP | APIARY_L_L4;
		p->payload_off = (__u16)((void *)udp - data) + 8;
	} else if ((!v6 && proto == APIARY_IPPROTO_ICMP) || (v6 && proto == APIARY_IPPROTO_ICMPV6)) {
		__u8 *icmp = pos;

		if ((void *)(icmp + 4) > data_end)
			return;
		p->icmp_type = icmp[0];
		p->layers |= APIARY_L_ICMP;
		p->payload_off = (__u16)((void *)icmp - data) + 4;
	}
}

/* Fill *p (which the caller zeroed) from the frame. eth_type is the outer
 * EtherType as it sits in bytes 12..13; the VLAN tag's inner type selects
 * the L3 parser. Returns the layer bits found. */
static __always_inline __u32 apiary_parse(struct apiary_pkt *p, void *data, void *data_end)
{
	struct apiary_hdr_eth *eth = data;
	void *pos = data;
	__u16 proto;

	p->len = (__u16)(data_end - data);
	if ((void *)(eth + 1) > data_end)
		return p->layers;
	p->layers |= APIARY_L_ETH;
	__builtin_memcpy(p->eth_dst, eth->dst, 6);
	__builtin_memcpy(p->eth_src, eth->src, 6);
	proto = bpf_ntohs(eth->proto);
	p->eth_type = proto;
	pos = eth + 1;

	if (proto == APIARY_ETH_P_8021Q || proto == APIARY_ETH_P_8021AD) {
		struct apiary_hdr_vlan *vlan = pos;

		if ((void *)(vlan + 1) > data_end)
			return p->layers;
		p->layers |= APIARY_L_VLAN;
		p->vlan_id = bpf_ntohs(vlan->tci) & 0x0fff;
		proto = bpf_ntohs(vlan->proto);
		pos = vlan + 1;
	}
	p->l3_off = (__u16)(pos - data);

	if (proto == APIARY_ETH_P_IP) {
		struct apiary_hdr_ip4 *ip = pos;
		__u32 ihl;

		if ((void *)(ip + 1) > data_end)
			return p->layers;
		if ((ip->ver_ihl >> 4) != 4)
			return p->layers;
		ihl = (ip->ver_ihl & 0x0f) * 4;
		if (ihl < sizeof(*ip))
			return p->layers;
		if (pos + ihl > data_end)
			return p->layers;
		p->layers |= APIARY_L_IPV4;
		p->ip_proto = ip->protocol;
		p->ip_ttl = ip->ttl;
		p->ip_src = ip->saddr;
		p->ip_dst = ip->daddr;
		pos += ihl;
		p->l4_off = (__u16)(pos - data);
		p->payload_off = p->l4_off;
		/* Later fragments carry no L4 header. */
		if (bpf_ntohs(ip->frag_off) & 0x1fff)
			return p->layers;
		apiary__parse_l4(p, data, pos, data_end, p->ip_proto, 0);
	} else if (proto == APIARY_ETH_P_IPV6) {
		struct apiary_hdr_ip6 *ip6 = pos;

		if ((void *)(ip6 + 1) > data_end)
			return p->layers;
		if ((((__u8 *)ip6)[0] >> 4) != 6)
			return p->layers;
		p->layers |= APIARY_L_IPV6;
		p->ip_proto = ip6->nexthdr;
		p->ip_ttl = ip6->hop_limit;
		__builtin_memcpy(p->ip6_src, ip6->saddr, 16);
		__builtin_memcpy(p->ip6_dst, ip6->daddr, 16);
		pos = ip6 + 1;
		p->l4_off = (__u16)(pos - data);
		p->payload_off = p->l4_off;
		apiary__parse_l4(p, data, pos, data_end, p->ip_proto, 1);
	}
	return p->layers;
}

/* ---- helpers for generated predicates -------------------------------- */

/* An IPv4 address field (network order) as a host-order integer. */
static __always_inline __u32 apiary_ip4(__u32 be)
{
	return bpf_ntohl(be);
}

/* A MAC address as a 48-bit integer, first byte most significant. */
static __always_inline __u64 apiary_mac(const __u8 *m)
{
	return ((__u64)m[0] << 40) | ((__u64)m[1] << 32) | ((__u64)m[2] << 24) |
	       ((__u64)m[3] << 16) | ((__u64)m[4] << 8) | (__u64)m[5];
}

/* Word i (0..3) of an IPv6 address as a host-order integer. */
static __always_inline __u32 apiary_ip6_word(const __u8 *a, int i)
{
	return ((__u32)a[4 * i] << 24) | ((__u32)a[4 * i + 1] << 16) | ((__u32)a[4 * i + 2] << 8) |
	       (__u32)a[4 * i + 3];
}

/* Compare an IPv6 address with the constant w0:w1:w2:w3 (host-order words):
 * -1, 0 or 1 as memcmp. */
static __always_inline int apiary_ip6_cmp(const __u8 *a, __u32 w0, __u32 w1, __u32 w2, __u32 w3)
{
	__u32 x;

	x = apiary_ip6_word(a, 0);
	if (x != w0)
		return x < w0 ? -1 : 1;
	x = apiary_ip6_word(a, 1);
	if (x != w1)
		return x < w1 ? -1 : 1;
	x = apiary_ip6_word(a, 2);
	if (x != w2)
		return x < w2 ? -1 : 1;
	x = apiary_ip6_word(a, 3);
	if (x != w3)
		return x < w3 ? -1 : 1;
	return 0;
}

/* Mask of the first `bits` (0..32) bits of a word. */
static __always_inline __u32 apiary__mask32(int bits)
{
	if (bits <= 0)
		return 0;
	if (bits >= 32)
		return 0xffffffffu;
	return ~(0xffffffffu >> bits);
}

/* Is the IPv6 address inside w0:w1:w2:w3/plen? */
static __always_inline int apiary_ip6_in(const __u8 *a, __u32 w0, __u32 w1, __u32 w2, __u32 w3,
					 int plen)
{
	return (apiary_ip6_word(a, 0) & apiary__mask32(plen)) == (w0 & apiary__mask32(plen)) &&
	       (apiary_ip6_word(a, 1) & apiary__mask32(plen - 32)) ==
		       (w1 & apiary__mask32(plen - 32)) &&
	       (apiary_ip6_word(a, 2) & apiary__mask32(plen - 64)) ==
		       (w2 & apiary__mask32(plen - 64)) &&
	       (apiary_ip6_word(a, 3) & apiary__mask32(plen - 96)) ==
		       (w3 & apiary__mask32(plen - 96));
}

#endif
