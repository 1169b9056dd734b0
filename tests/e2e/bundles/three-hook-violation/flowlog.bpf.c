// SPDX-License-Identifier: MIT
/* flowlog (team observability): at tc egress, log each TCP connection's
 * context as the classifier created it at XDP: its flow id, packets per
 * direction, and the hook that logged it last. Never drops.
 *
 * flow_log value (24 bytes, state type bytes[24]), little endian:
 *   u64 flow_id     id the dispatcher gave the flow at XDP
 *   u32 fwd_pkts    packets in the direction of the flow's first packet
 *   u32 rev_pkts    reply packets (ctx->direction == 1)
 *   u32 last_hook   APIARY_HOOK_ID_* of the last update (3: tc.egress)
 *   u32 id_changes  times the context showed another id for the same key
 */
#include <linux/pkt_cls.h>
#include "../common/ctx.h"

struct flow_rec {
	__u64 flow_id;
	__u32 fwd_pkts;
	__u32 rev_pkts;
	__u32 last_hook;
	__u32 id_changes;
};

/* state flow_log : hash(conn -> bytes[24]) max 4096 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct apiary_flow_key);
	__type(value, struct flow_rec);
} flow_log SEC(".maps");

SEC("tc")
int flowlog(struct __sk_buff *skb)
{
	struct apiary_ctx *c = apiary_ctx_get();
	struct flow_rec *r, fresh = {};

	if (!c || !c->flow_id)
		return TC_ACT_OK;
	r = bpf_map_lookup_elem(&flow_log, &c->key);
	if (!r) {
		fresh.flow_id = c->flow_id;
		bpf_map_update_elem(&flow_log, &c->key, &fresh, BPF_NOEXIST);
		r = bpf_map_lookup_elem(&flow_log, &c->key);
		if (!r)
			return TC_ACT_OK;
	}
	if (r->flow_id != c->flow_id) {
		r->id_changes++;
		r->flow_id = c->flow_id;
	}
	if (c->direction)
		r->rev_pkts++;
	else
		r->fwd_pkts++;
	r->last_hook = c->hook;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
