// SPDX-License-Identifier: MIT
/* Test enforcer, built once per ENF_ID: appends 100 + ENF_ID to order_log at
 * its chain step; counts its runs in its own map and in a .bss global.
 * ENF_ROLE: 0 append, 1 also rewrite byte 14 to 0xab, 2 also record in
 * order_log[15] whether byte 14 is 0xab, 3 also drop. */
#include "mini_abi.h"

#ifndef ENF_ROLE
#define ENF_ROLE 0
#endif

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

__u64 runs;                           /* .bss: enforcer-owned state */
volatile const __u32 tag = 100;       /* .rodata: set with `global tag = N` */

static __noinline int team_entry(struct xdp_md *x)
{
	struct apiary_ctx *c = mini_ctx();
	__u8 *data = (void *)(long)x->data, *end = (void *)(long)x->data_end;
	__u32 idx, val = tag + ENF_ID, k = ENF_ID;
	__u64 one = 1, *h;

	if (!c)
		return XDP_ABORTED;
	idx = c->step;
	bpf_map_update_elem(&order_log, &idx, &val, BPF_ANY);
	h = bpf_map_lookup_elem(&hits, &k);
	if (h)
		__sync_fetch_and_add(h, 1);
	else
		bpf_map_update_elem(&hits, &k, &one, BPF_ANY);
	runs++;
	if (data + 15 > end)
		return XDP_PASS;
	if (ENF_ROLE == 1)
		data[14] = 0xab;
	if (ENF_ROLE == 2) {
		__u32 k15 = 15, seen = data[14] == 0xab ? 1 : 2;

		bpf_map_update_elem(&order_log, &k15, &seen, BPF_ANY);
	}
	if (ENF_ROLE == 3)
		return XDP_DROP;
	return XDP_PASS;
}

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
MINI_WRAP_XDP(CAT(apiary_w_e, ENF_ID), team_entry, ENF_ID)
