// SPDX-License-Identifier: MIT
/*
 * meter (team observability): bytes per TCP connection, never drops.
 *
 * It does not parse the packet: the bundle's classifier `conn` already did,
 * and the dispatcher left the result in the per-CPU apiary_ctx_map (key 0).
 * The flow key there is canonical (both directions of a connection share it),
 * so conn_bytes holds the bytes of both directions together.
 *
 * Two entry points share the counting code, so the same source serves the
 * tc.egress placement (bundle `edge`) and the xdp one (bundle `edge-clean`):
 *   meter_tc   SEC("tc")   counts skb->len, returns TC_ACT_OK
 *   meter_xdp  SEC("xdp")  counts data_end - data, returns XDP_PASS
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "apiary/abi.h"

/* The dispatcher's context (shared with every program of the bundle by name).
 * The guard lets a generated wrapper that declares it too include this file. */
#ifndef APIARY_CTX_MAP_DEFINED
#define APIARY_CTX_MAP_DEFINED
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct apiary_ctx);
} apiary_ctx_map SEC(".maps");
#endif

/* state conn_bytes : hash(conn -> u64) max 65536 — exactly as declared in the
 * spec, so the loader can hand this object the bundle's map. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct apiary_flow_key);
	__type(value, __u64);
} conn_bytes SEC(".maps");

/* Add len bytes to the current packet's flow, if the classifier gave it one. */
static __always_inline void meter_count(__u64 len)
{
	__u32 zero = 0;
	struct apiary_ctx *c = bpf_map_lookup_elem(&apiary_ctx_map, &zero);
	__u64 *bytes;

	if (!c || !c->flow_id)
		return; /* not a classified (TCP) flow */
	bytes = bpf_map_lookup_elem(&conn_bytes, &c->key);
	if (bytes) {
		__sync_fetch_and_add(bytes, len);
		return;
	}
	/* BPF_NOEXIST: if another CPU created the entry meanwhile, add to it. */
	if (bpf_map_update_elem(&conn_bytes, &c->key, &len, BPF_NOEXIST)) {
		bytes = bpf_map_lookup_elem(&conn_bytes, &c->key);
		if (bytes)
			__sync_fetch_and_add(bytes, len);
	}
}

SEC("tc")
int meter_tc(struct __sk_buff *skb)
{
	meter_count(skb->len);
	return TC_ACT_OK;
}

SEC("xdp")
int meter_xdp(struct xdp_md *ctx)
{
	meter_count(ctx->data_end - ctx->data);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
