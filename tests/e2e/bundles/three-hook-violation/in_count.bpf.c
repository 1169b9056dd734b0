// SPDX-License-Identifier: MIT
/* in_count (team observability): packets per TCP connection at tc ingress,
 * keyed by the flow key the classifier built at XDP. Never drops. */
#include <linux/pkt_cls.h>
#include "../common/ctx.h"

/* state flow_in : hash(conn -> u64) max 4096 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct apiary_flow_key);
	__type(value, __u64);
} flow_in SEC(".maps");

SEC("tc")
int in_count(struct __sk_buff *skb)
{
	struct apiary_ctx *c = apiary_ctx_get();
	__u64 one = 1, *n;

	if (!c || !c->flow_id)
		return TC_ACT_OK;
	n = bpf_map_lookup_elem(&flow_in, &c->key);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&flow_in, &c->key, &one, BPF_NOEXIST);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
