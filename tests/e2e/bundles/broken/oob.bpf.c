// SPDX-License-Identifier: MIT
/* oob (team security): drop TCP to port 23 — but it reads the TCP header
 * without checking it lies inside the frame (the bounds check covers the
 * IPv4 header only). It compiles; the verifier rejects it with
 * "invalid access to packet" at the line reading tcp->dest. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("xdp")
int oob(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct tcphdr *tcp = (void *)(ip + 1);

	if ((void *)(ip + 1) > end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->protocol != IPPROTO_TCP)
		return XDP_PASS;
	if (tcp->dest == bpf_htons(23)) /* BUG: no check of (void *)(tcp + 1) > end */
		return XDP_DROP;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
