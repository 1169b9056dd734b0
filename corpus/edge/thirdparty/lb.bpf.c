// SPDX-License-Identifier: MIT
/*
 * lb (team netops): a small Katran-style L4 load balancer, shipped to the
 * bundle as a prebuilt object (prebuilt/lb.bpf.o, built by corpus/meson.build)
 * and tail-called unchanged. It knows nothing about Apiary.
 *
 * For an IPv4 TCP/UDP packet whose {daddr, dport, proto} is a VIP in vip_map:
 *   - hash the 5-tuple (jhash, fixed seed: the same flow always lands on the
 *     same backend, with no time or randomness involved),
 *   - pick backends[{vip_num, hash % backend_count}],
 *   - IPIP-encapsulate: bpf_xdp_adjust_head(-20), outer IPv4 header
 *     {src = lb_encap_src (or the VIP if unset), dst = backend, proto 4,
 *     ttl 64, checksum computed}, MAC addresses swapped,
 *   - return XDP_TX (bounce back out of the interface it came in on).
 * A VIP without a usable backend is dropped (as Katran does); every other
 * packet passes untouched.
 *
 * Configuration (typed through BTF; __be16/__be32 fields are in network
 * order, addresses as in the packet):
 *   vip_map  { addr, port, proto } -> { vip_num, backend_count }
 *   backends { vip_num, index }    -> { addr, weight }
 *   global lb_encap_src: outer source address.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define LB_MAX_VIPS 64
#define LB_MAX_BACKENDS 1024
#define LB_HASH_SEED 0x4b617472u /* fixed: deterministic backend choice */

struct vip_definition {
	__be32 addr;
	__be16 port;
	__u8 proto;
	__u8 pad; /* keep zero */
};

struct vip_meta {
	__u32 vip_num;
	__u32 backend_count;
};

struct backend_key {
	__u32 vip_num;
	__u32 index;
};

struct real_definition {
	__be32 addr;
	__u32 weight; /* informational */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_MAX_VIPS);
	__type(key, struct vip_definition);
	__type(value, struct vip_meta);
} vip_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_MAX_BACKENDS);
	__type(key, struct backend_key);
	__type(value, struct real_definition);
} backends SEC(".maps");

const volatile __be32 lb_encap_src = 0;

struct vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

/* ---- jhash (Bob Jenkins), as in the kernel's <linux/jhash.h> -------------- */

static __always_inline __u32 rol32(__u32 w, unsigned int s)
{
	return (w << s) | (w >> (32 - s));
}

static __always_inline __u32 jhash_3words(__u32 a, __u32 b, __u32 c, __u32 initval)
{
	a += 0xdeadbeef + (3 << 2) + initval;
	b += 0xdeadbeef + (3 << 2) + initval;
	c += 0xdeadbeef + (3 << 2) + initval;
	/* __jhash_final */
	c ^= b; c -= rol32(b, 14);
	a ^= c; a -= rol32(c, 11);
	b ^= a; b -= rol32(a, 25);
	c ^= b; c -= rol32(b, 16);
	a ^= c; a -= rol32(c, 4);
	b ^= a; b -= rol32(a, 14);
	c ^= b; c -= rol32(b, 24);
	return c;
}

/* Internet checksum of a 20-byte IPv4 header without options. */
static __always_inline __u16 ipv4_csum(struct iphdr *ip)
{
	__u16 *w = (__u16 *)ip;
	__u32 sum = 0;
	int i;

	ip->check = 0;
#pragma unroll
	for (i = 0; i < (int)(sizeof(*ip) / 2); i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/* Grow the frame by one IPv4 header between L2 and the inner IP header.
 * l2len is 14 (no tag) or 18 (one VLAN tag). Returns 0 or -1. */
static __always_inline int encap_ipip(struct xdp_md *ctx, int l2len, const struct iphdr *outer)
{
	__u8 l2[ETH_HLEN + sizeof(struct vlan_hdr)];
	void *data, *end;
	struct ethhdr *eth;

	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (l2len == ETH_HLEN) {
		if (data + ETH_HLEN > end)
			return -1;
		__builtin_memcpy(l2, data, ETH_HLEN);
	} else {
		if (data + sizeof(l2) > end)
			return -1;
		__builtin_memcpy(l2, data, sizeof(l2));
	}
	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(struct iphdr)))
		return -1;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + sizeof(l2) + sizeof(struct iphdr) > end)
		return -1;
	eth = data;
	/* Bounce: the frame goes back to the router it came from. */
	__builtin_memcpy(eth->h_dest, l2 + ETH_ALEN, ETH_ALEN);
	__builtin_memcpy(eth->h_source, l2, ETH_ALEN);
	if (l2len == ETH_HLEN) {
		__builtin_memcpy(data + 12, l2 + 12, 2);
		__builtin_memcpy(data + ETH_HLEN, outer, sizeof(*outer));
	} else {
		__builtin_memcpy(data + 12, l2 + 12, 6);
		__builtin_memcpy(data + sizeof(l2), outer, sizeof(*outer));
	}
	return 0;
}

SEC("xdp")
int balancer_ingress(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct vip_definition vip = {};
	struct backend_key bk = {};
	struct real_definition *real;
	struct vip_meta *meta;
	struct iphdr outer = {};
	struct iphdr *ip;
	__u16 sport, dport;
	int l2len = ETH_HLEN;
	__u16 type;
	void *l4;

	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	type = bpf_ntohs(eth->h_proto);
	if (type == ETH_P_8021Q || type == ETH_P_8021AD) {
		struct vlan_hdr *vh = (void *)(eth + 1);

		if ((void *)(vh + 1) > end)
			return XDP_PASS;
		type = bpf_ntohs(vh->encap_proto);
		l2len += sizeof(*vh);
	}
	if (type != ETH_P_IP)
		return XDP_PASS;
	ip = data + l2len;
	if ((void *)(ip + 1) > end || ip->ihl < 5)
		return XDP_PASS;
	l4 = (void *)ip + ip->ihl * 4;
	if (ip->protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;

		if ((void *)(tcp + 1) > end)
			return XDP_PASS;
		sport = tcp->source;
		dport = tcp->dest;
	} else if (ip->protocol == IPPROTO_UDP) {
		struct udphdr *udp = l4;

		if ((void *)(udp + 1) > end)
			return XDP_PASS;
		sport = udp->source;
		dport = udp->dest;
	} else {
		return XDP_PASS;
	}

	vip.addr = ip->daddr;
	vip.port = dport;
	vip.proto = ip->protocol;
	meta = bpf_map_lookup_elem(&vip_map, &vip);
	if (!meta)
		return XDP_PASS;
	if (!meta->backend_count)
		return XDP_DROP;
	bk.vip_num = meta->vip_num;
	bk.index = jhash_3words(ip->saddr, ((__u32)sport << 16) | dport, ip->protocol,
				LB_HASH_SEED) % meta->backend_count;
	real = bpf_map_lookup_elem(&backends, &bk);
	if (!real || !real->addr)
		return XDP_DROP;

	outer.version = 4;
	outer.ihl = 5;
	outer.tos = ip->tos;
	outer.tot_len = bpf_htons(bpf_ntohs(ip->tot_len) + sizeof(outer));
	outer.ttl = 64;
	outer.protocol = IPPROTO_IPIP;
	outer.saddr = lb_encap_src ? lb_encap_src : ip->daddr;
	outer.daddr = real->addr;
	outer.check = ipv4_csum(&outer);

	if (encap_ipip(ctx, l2len, &outer))
		return XDP_DROP;
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
