// SPDX-License-Identifier: MIT
/* Does not compile: the compiler must report clang's own message. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int broken_main(struct xdp_md *ctx)
{
	return undeclared_variable;
}
