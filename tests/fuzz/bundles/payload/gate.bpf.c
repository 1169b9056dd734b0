// SPDX-License-Identifier: MIT
/* gate (team edge): drop TCP to port 4242 whose payload starts with
 * "APIARY" (a protocol the team does not want in). The payload is checked
 * byte by byte, as parsers do, so each matching byte is a new branch. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int gate(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct tcphdr *tcp;
	unsigned char *p;

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->protocol != IPPROTO_TCP || ip->ihl != 5)
		return XDP_PASS;
	tcp = (void *)(ip + 1);
	if ((void *)(tcp + 1) > end || tcp->dest != bpf_htons(4242))
		return XDP_PASS;
	p = (void *)(tcp + 1);
	if ((void *)(p + 6) > end)
		return XDP_PASS;
	if (p[0] != 'A')
		return XDP_PASS;
	if (p[1] != 'P')
		return XDP_PASS;
	if (p[2] != 'I')
		return XDP_PASS;
	if (p[3] != 'A')
		return XDP_PASS;
	if (p[4] != 'R')
		return XDP_PASS;
	if (p[5] != 'Y')
		return XDP_PASS;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
