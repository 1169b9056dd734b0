/* SPDX-License-Identifier: MIT */
/*
 * Hand-built predicate ASTs for the invariants tests (no parser needed):
 * nodes come from a static pool, reset with pb_reset().
 */
#ifndef APIARY_TEST_PRED_BUILD_H
#define APIARY_TEST_PRED_BUILD_H

#include <arpa/inet.h>
#include <assert.h>
#include <stdarg.h>
#include <string.h>

#include "apiary/spec.h"

#define PB_NODES 4096
#define PB_ITEMS 4096

static struct apiary_pred pb_nodes[PB_NODES];
static struct apiary_literal pb_items[PB_ITEMS];
static size_t pb_nnodes, pb_nitems;

static inline void pb_reset(void)
{
	pb_nnodes = pb_nitems = 0;
	memset(pb_nodes, 0, sizeof(pb_nodes));
	memset(pb_items, 0, sizeof(pb_items));
}

static inline struct apiary_pred *pb_node(enum apiary_pred_kind k)
{
	struct apiary_pred *p;

	assert(pb_nnodes < PB_NODES);
	p = &pb_nodes[pb_nnodes++];
	memset(p, 0, sizeof(*p));
	p->kind = k;
	return p;
}

static inline struct apiary_literal L_INT(uint64_t u)
{
	struct apiary_literal l = { .kind = APIARY_LIT_INT, .u = u };
	return l;
}

static inline struct apiary_literal L_IP4(const char *s, int prefix)
{
	struct apiary_literal l = { .kind = APIARY_LIT_IPV4, .prefix = prefix };
	int ok = inet_pton(AF_INET, s, l.addr);

	assert(ok == 1);
	(void)ok;
	return l;
}

static inline struct apiary_literal L_IP6(const char *s, int prefix)
{
	struct apiary_literal l = { .kind = APIARY_LIT_IPV6, .prefix = prefix };
	int ok = inet_pton(AF_INET6, s, l.addr);

	assert(ok == 1);
	(void)ok;
	return l;
}

static inline struct apiary_literal L_MAC(const uint8_t m[6])
{
	struct apiary_literal l = { .kind = APIARY_LIT_MAC };

	memcpy(l.addr, m, 6);
	return l;
}

static inline struct apiary_literal L_RANGE(uint64_t lo, uint64_t hi)
{
	struct apiary_literal l = { .kind = APIARY_LIT_RANGE, .lo = lo, .hi = hi };
	return l;
}

/* A set of n items given as struct apiary_literal values. */
static inline struct apiary_literal L_SET(size_t n, ...)
{
	struct apiary_literal l = { .kind = APIARY_LIT_SET };
	va_list ap;

	assert(pb_nitems + n <= PB_ITEMS);
	l.items = &pb_items[pb_nitems];
	l.nitems = n;
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		pb_items[pb_nitems++] = va_arg(ap, struct apiary_literal);
	va_end(ap);
	return l;
}

static inline struct apiary_pred *P_CMP(enum apiary_field f, enum apiary_cmp_op op,
					struct apiary_literal v)
{
	struct apiary_pred *p = pb_node(APIARY_P_CMP);

	p->field = f;
	p->op = op;
	p->value = v;
	return p;
}

static inline struct apiary_pred *P_IN(enum apiary_field f, struct apiary_literal v)
{
	struct apiary_pred *p = pb_node(APIARY_P_IN);

	p->field = f;
	p->value = v;
	return p;
}

static inline struct apiary_pred *P_HAS(enum apiary_field f, uint64_t mask)
{
	struct apiary_pred *p = pb_node(APIARY_P_HAS);

	p->field = f;
	p->value = L_INT(mask);
	return p;
}

static inline struct apiary_pred *P_AND(struct apiary_pred *a, struct apiary_pred *b)
{
	struct apiary_pred *p = pb_node(APIARY_P_AND);

	p->lhs = a;
	p->rhs = b;
	return p;
}

static inline struct apiary_pred *P_OR(struct apiary_pred *a, struct apiary_pred *b)
{
	struct apiary_pred *p = pb_node(APIARY_P_OR);

	p->lhs = a;
	p->rhs = b;
	return p;
}

static inline struct apiary_pred *P_NOT(struct apiary_pred *a)
{
	struct apiary_pred *p = pb_node(APIARY_P_NOT);

	p->lhs = a;
	return p;
}

#define EQ(f, v) P_CMP(f, APIARY_OP_EQ, v)

#endif
