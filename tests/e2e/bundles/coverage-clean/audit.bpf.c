// SPDX-License-Identifier: MIT
/* audit (team compliance): count every TCP packet the host sends, at tc
 * egress, into a private per-CPU counter. Never drops. */
#include <linux/pkt_cls.h>
#include "../common/parse.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} audit_tcp_pkts SEC(".maps");

SEC("tc")
int audit(struct __sk_buff *skb)
{
	struct pkt p;
	__u32 zero = 0;
	__u64 *n;

	if (!pkt_parse((void *)(long)skb->data, (void *)(long)skb->data_end, &p) || !p.tcp)
		return TC_ACT_OK;
	n = bpf_map_lookup_elem(&audit_tcp_pkts, &zero);
	if (n)
		*n += 1;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
