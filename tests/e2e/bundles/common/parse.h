/* SPDX-License-Identifier: MIT */
/*
 * Tiny packet parser shared by the e2e test bundles' enforcers (plain eBPF C,
 * no Apiary API). It follows the bundle field model: Ethernet, at most one
 * VLAN tag (802.1Q or 802.1ad), IPv4 (options skipped via ihl) or IPv6 (fixed
 * header, next header taken as the L4 protocol), then TCP/UDP if the whole
 * header is in the frame.
 *
 * Works for XDP (pass ctx->data/data_end) and tc (skb->data/data_end).
 */
#ifndef E2E_PARSE_H
#define E2E_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct e2e_vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

struct pkt {
	struct ethhdr *eth;
	struct iphdr *ip;     /* NULL unless IPv4 */
	struct ipv6hdr *ip6;  /* NULL unless IPv6 */
	struct tcphdr *tcp;   /* NULL unless a whole TCP header is present */
	struct udphdr *udp;   /* NULL unless a whole UDP header is present */
	__u8 proto;           /* L4 protocol, 0 if not IP */
};

/* Fill p; returns 0 if the frame has no Ethernet header. */
static __always_inline int pkt_parse(void *data, void *end, struct pkt *p)
{
	struct ethhdr *eth = data;
	void *l3, *l4;
	__u16 type;

	__builtin_memset(p, 0, sizeof(*p));
	if ((void *)(eth + 1) > end)
		return 0;
	p->eth = eth;
	type = bpf_ntohs(eth->h_proto);
	l3 = eth + 1;
	if (type == ETH_P_8021Q || type == ETH_P_8021AD) {
		struct e2e_vlan_hdr *vh = l3;

		if ((void *)(vh + 1) > end)
			return 1;
		type = bpf_ntohs(vh->encap_proto);
		l3 = vh + 1;
	}
	if (type == ETH_P_IP) {
		struct iphdr *ip = l3;

		if ((void *)(ip + 1) > end || ip->ihl < 5)
			return 1;
		p->ip = ip;
		p->proto = ip->protocol;
		l4 = l3 + ip->ihl * 4;
	} else if (type == ETH_P_IPV6) {
		struct ipv6hdr *ip6 = l3;

		if ((void *)(ip6 + 1) > end)
			return 1;
		p->ip6 = ip6;
		p->proto = ip6->nexthdr;
		l4 = ip6 + 1;
	} else {
		return 1;
	}
	if (p->proto == IPPROTO_TCP && l4 + sizeof(struct tcphdr) <= end)
		p->tcp = l4;
	else if (p->proto == IPPROTO_UDP && l4 + sizeof(struct udphdr) <= end)
		p->udp = l4;
	return 1;
}

/* Incremental checksum update (RFC 1624) for one 16-bit word: from -> to. */
static __always_inline void csum_replace2(__sum16 *sum, __be16 from, __be16 to)
{
	__u32 s = (__u16)~*sum + (__u16)~from + (__u16)to;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	*sum = ~s;
}

/* Same for a 32-bit word (an IPv4 address). */
static __always_inline void csum_replace4(__sum16 *sum, __be32 from, __be32 to)
{
	csum_replace2(sum, (__be16)(from >> 16), (__be16)(to >> 16));
	csum_replace2(sum, (__be16)(from & 0xffff), (__be16)(to & 0xffff));
}

#endif
