// SPDX-License-Identifier: MIT
/*
 * firewall (team security): a deny-list at XDP.
 *
 * Rules live in the map fw_rules, filled from the bundle spec's `config`
 * entries (one entry per rule, ids 0..FW_MAX_RULES-1, gaps allowed). A packet
 * is dropped when any rule matches it:
 *   - prefix_len == 0: the rule has no address part and applies to IPv4 and
 *     IPv6 alike; otherwise the IPv4 source must be in addr/prefix_len;
 *   - proto == 0: any protocol, else the L4 protocol must be equal;
 *   - port == 0: any port, else the TCP/UDP destination port must be equal.
 * Everything else passes. No time, no randomness: the verdict is a function
 * of the packet and the rules only.
 *
 * Parsing follows the bundle's field model: Ethernet, at most one VLAN tag
 * (802.1Q or 802.1ad), then IPv4 (options skipped via ihl) or IPv6 (fixed
 * header; the next header is taken as the L4 protocol).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define FW_MAX_RULES 16

struct fw_rule_key {
	__u32 id;
};

/* One deny rule; every field is optional (zero = wildcard). */
struct fw_rule {
	__be32 addr;     /* IPv4 source network, bytes as in the packet */
	__u8 prefix_len; /* 0..32; 0 = no address part */
	__u8 proto;      /* IPPROTO_*, 0 = any */
	__u16 port;      /* destination port in host order, 0 = any */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FW_MAX_RULES);
	__type(key, struct fw_rule_key);
	__type(value, struct fw_rule);
} fw_rules SEC(".maps");

struct vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

/* What the rules look at. */
struct fw_pkt {
	int family; /* 4, 6 or 0 */
	__be32 saddr;
	__u8 proto;
	int has_ports;
	__u16 dport; /* host order */
};

/* Parse the headers the rules need; returns 0 if the frame is not IP. */
static __always_inline int fw_parse(struct xdp_md *ctx, struct fw_pkt *p)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	void *l4;
	__u16 type;

	if ((void *)(eth + 1) > end)
		return 0;
	type = bpf_ntohs(eth->h_proto);
	data = eth + 1;
	if (type == ETH_P_8021Q || type == ETH_P_8021AD) {
		struct vlan_hdr *vh = data;

		if ((void *)(vh + 1) > end)
			return 0;
		type = bpf_ntohs(vh->encap_proto);
		data = vh + 1;
	}
	if (type == ETH_P_IP) {
		struct iphdr *ip = data;

		if ((void *)(ip + 1) > end || ip->ihl < 5)
			return 0;
		p->family = 4;
		p->saddr = ip->saddr;
		p->proto = ip->protocol;
		l4 = data + ip->ihl * 4;
	} else if (type == ETH_P_IPV6) {
		struct ipv6hdr *ip6 = data;

		if ((void *)(ip6 + 1) > end)
			return 0;
		p->family = 6;
		p->proto = ip6->nexthdr;
		l4 = ip6 + 1;
	} else {
		return 0;
	}
	if (p->proto == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;

		if ((void *)(tcp + 1) <= end) {
			p->has_ports = 1;
			p->dport = bpf_ntohs(tcp->dest);
		}
	} else if (p->proto == IPPROTO_UDP) {
		struct udphdr *udp = l4;

		if ((void *)(udp + 1) <= end) {
			p->has_ports = 1;
			p->dport = bpf_ntohs(udp->dest);
		}
	}
	return 1;
}

/* Does one rule match the parsed packet? */
static __always_inline int fw_rule_matches(const struct fw_rule *r, const struct fw_pkt *p)
{
	if (r->prefix_len > 32)
		return 0; /* malformed rule: never matches */
	if (r->prefix_len) {
		__u32 mask = ~0u << (32 - r->prefix_len);

		if (p->family != 4 || ((bpf_ntohl(p->saddr) ^ bpf_ntohl(r->addr)) & mask))
			return 0;
	}
	if (r->proto && r->proto != p->proto)
		return 0;
	if (r->port && (!p->has_ports || r->port != p->dport))
		return 0;
	return 1;
}

SEC("xdp")
int fw_main(struct xdp_md *ctx)
{
	struct fw_pkt p = {};
	__u32 i;

	if (!fw_parse(ctx, &p))
		return XDP_PASS;
	for (i = 0; i < FW_MAX_RULES; i++) {
		struct fw_rule_key k = { .id = i };
		struct fw_rule *r = bpf_map_lookup_elem(&fw_rules, &k);

		if (r && fw_rule_matches(r, &p))
			return XDP_DROP;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
