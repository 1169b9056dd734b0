/* SPDX-License-Identifier: MIT */
/*
 * The dispatcher's per-CPU context (struct apiary_ctx, include/apiary/abi.h),
 * for plain-C enforcers that read the classifier's result. The map is shared
 * by name with the sidecar; the guard lets a generated wrapper that declares
 * it too include the enforcer's source.
 */
#ifndef E2E_CTX_H
#define E2E_CTX_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "apiary/abi.h"

#ifndef APIARY_CTX_MAP_DEFINED
#define APIARY_CTX_MAP_DEFINED
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct apiary_ctx);
} apiary_ctx_map SEC(".maps");
#endif

/* The context of the packet being processed, or NULL (never in practice). */
static __always_inline struct apiary_ctx *apiary_ctx_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&apiary_ctx_map, &zero);
}

#endif
