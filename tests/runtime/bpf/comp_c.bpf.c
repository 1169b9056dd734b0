// SPDX-License-Identifier: MIT
/* Compiled test enforcer c: appends 3 to order_log at its chain step. */
#include "comp_append.h"

SEC("xdp")
int append_c(struct xdp_md *ctx)
{
	return comp_append(3);
}

char LICENSE[] SEC("license") = "GPL";
