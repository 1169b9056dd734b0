// SPDX-License-Identifier: MIT
/* audit (team compliance): count TCP packets to port 4242 at tc.egress,
 * into a private per-CPU counter. Never drops. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} audit_4242 SEC(".maps");

SEC("tc")
int audit(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct tcphdr *tcp = (void *)(ip + 1);
	__u32 zero = 0;
	__u64 *n;

	if ((void *)(tcp + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->protocol != IPPROTO_TCP || ip->ihl != 5 || tcp->dest != bpf_htons(4242))
		return TC_ACT_OK;
	n = bpf_map_lookup_elem(&audit_4242, &zero);
	if (n)
		*n += 1;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
