// SPDX-License-Identifier: MIT
/* Test program for the coverage pass: XDP with distinct paths per packet
 * kind and a non-inlined subprogram (a second counter array). */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

static __noinline int classify_port(__u16 port)
{
	if (port == 53)
		return XDP_PASS;
	if (port < 1024)
		return XDP_DROP;
	return XDP_TX;
}

SEC("xdp")
int branches(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end)
		return XDP_ABORTED;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		struct udphdr *udp = (void *)(ip + 1);

		if ((void *)(udp + 1) > end)
			return XDP_DROP;
		if (ip->protocol == IPPROTO_UDP)
			return classify_port(bpf_ntohs(udp->dest));
		return XDP_PASS;
	}
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end)
			return XDP_DROP;
		return ip6->hop_limit > 1 ? XDP_PASS : XDP_DROP;
	}
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
