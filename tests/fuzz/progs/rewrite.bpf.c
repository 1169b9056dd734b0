// SPDX-License-Identifier: MIT
/* Test program built WITHOUT coverage (as a prebuilt object would be): tc,
 * rewrites the IPv4 TTL of UDP packets, drops TCP to port 23. Only the
 * harness's outcome signature can tell its behaviours apart. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int rewrite(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct tcphdr *tcp = (void *)(ip + 1);

	if ((void *)(tcp + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	if (ip->protocol == IPPROTO_UDP) {
		ip->ttl = 1;
		return TC_ACT_OK;
	}
	if (ip->protocol == IPPROTO_TCP && tcp->dest == bpf_htons(23))
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
