// SPDX-License-Identifier: MIT
/*
 * lb version 8 (team netops): a third backend, 10.1.0.13, and the client
 * port modulo 3. Adding a backend moves most existing connections to
 * another backend: exactly what must not happen to a connection in flight.
 */
#include "lb.h"

static __always_inline __u32 pick_v8(const struct apiary_ctx *c)
{
	__u32 i = c->pkt.sport % 3;

	return i == 0 ? 0x0b00010au : i == 1 ? 0x0c00010au : 0x0d00010au;
}

SEC("xdp") int lb_main(struct xdp_md *ctx)
{
	return lb_forward(ctx, pick_v8);
}

char LICENSE[] SEC("license") = "GPL";
