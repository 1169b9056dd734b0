// SPDX-License-Identifier: MIT
/* probe (team netops): meant to look at port_hits, but it was copied from
 * acct and still increments the counter: every TCP packet is counted twice,
 * and netops never declared the write. Never drops. */
#include <linux/pkt_cls.h>
#include "../common/parse.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u16);
	__type(value, __u64);
} port_hits SEC(".maps");

SEC("tc")
int probe(struct __sk_buff *skb)
{
	struct pkt p;
	__u64 one = 1, *n;
	__u16 port;

	if (!pkt_parse((void *)(long)skb->data, (void *)(long)skb->data_end, &p) || !p.tcp)
		return TC_ACT_OK;
	port = bpf_ntohs(p.tcp->dest);
	n = bpf_map_lookup_elem(&port_hits, &port);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&port_hits, &port, &one, BPF_NOEXIST);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
