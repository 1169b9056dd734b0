// SPDX-License-Identifier: MIT
/* reply_guard (team security): "outbound only" at tc ingress: drop every
 * reply packet of a TCP connection, i.e. a packet whose direction in the
 * classifier context (set at XDP) is 1. First packets of flows pass. */
#include <linux/pkt_cls.h>
#include "../common/ctx.h"

SEC("tc")
int reply_guard(struct __sk_buff *skb)
{
	struct apiary_ctx *c = apiary_ctx_get();

	if (c && c->flow_id && c->direction == 1)
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
