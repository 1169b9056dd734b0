// SPDX-License-Identifier: MIT
/* Fuzzing target: XDP_ABORTED (the plain executor's violation marker) only
 * for UDP to port 4242 whose payload starts with "APIARY". The payload is
 * checked byte by byte, so coverage can lead a fuzzer there one byte at a
 * time, as in real parsers. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int deep(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	unsigned char *p = (void *)(udp + 1);

	if ((void *)(p + 6) > end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	if (udp->dest != bpf_htons(4242))
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
	return XDP_ABORTED;
}

char _license[] SEC("license") = "GPL";
