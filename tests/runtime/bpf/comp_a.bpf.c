// SPDX-License-Identifier: MIT
/* Compiled test enforcer a: appends 1 to order_log at its chain step. */
#include "comp_append.h"

SEC("xdp")
int append_a(struct xdp_md *ctx)
{
	return comp_append(1);
}

char LICENSE[] SEC("license") = "GPL";
