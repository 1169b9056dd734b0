// SPDX-License-Identifier: MIT
/* Compiled test enforcer b: appends 2 to order_log at its chain step. */
#include "comp_append.h"

SEC("xdp")
int append_b(struct xdp_md *ctx)
{
	return comp_append(2);
}

char LICENSE[] SEC("license") = "GPL";
