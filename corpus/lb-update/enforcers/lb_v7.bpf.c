// SPDX-License-Identifier: MIT
/*
 * lb version 7 (team netops): two backends, 10.1.0.11 and 10.1.0.12,
 * chosen by the client port modulo 2.
 */
#include "lb.h"

static __always_inline __u32 pick_v7(const struct apiary_ctx *c)
{
	/* 10.1.0.11 / 10.1.0.12, in packet order */
	return (c->pkt.sport % 2) ? 0x0c00010au : 0x0b00010au;
}

SEC("xdp") int lb_main(struct xdp_md *ctx)
{
	return lb_forward(ctx, pick_v7);
}

char LICENSE[] SEC("license") = "GPL";
