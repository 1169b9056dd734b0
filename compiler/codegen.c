// SPDX-License-Identifier: MIT
/*
 * Generation of the bundle's BPF C: apiary_bundle.h (declared state,
 * constants), sidecar.bpf.c (classifier predicate, flow key, dispatchers) and
 * one wrapper translation unit per source enforcer version.
 *
 * The generated files are read by people (and compared by golden tests), so
 * they stay short: the execution model lives in include/apiary/bpf/chain.h,
 * the parser in parse.h; what is generated is only what depends on the spec.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "apiary/abi.h"
#include "codegen.h"

_Static_assert(APIARY_HOOK_ID_XDP == APIARY_HOOK_XDP, "hook ids");
_Static_assert(APIARY_HOOK_ID_TC_INGRESS == APIARY_HOOK_TC_INGRESS, "hook ids");
_Static_assert(APIARY_HOOK_ID_TC_EGRESS == APIARY_HOOK_TC_EGRESS, "hook ids");

/* How a field reads in generated C. */
enum gen_kind {
	K_INT,  /* plain integer member */
	K_IP4,  /* apiary_ip4(): host-order u32 */
	K_MAC,  /* apiary_mac(): 48-bit integer */
	K_IP6,  /* 16 bytes, compared with apiary_ip6_*() */
};

struct gen_field {
	const char *name;  /* spec spelling */
	const char *expr;  /* C over `p` */
	const char *layer; /* APIARY_L_* required */
	enum gen_kind kind;
	unsigned bits;
};

/* Indexed by enum apiary_field. */
static const struct gen_field gen_fields[APIARY_F__COUNT] = {
	[APIARY_F_ETH_TYPE] = { "eth.type", "p->eth_type", "APIARY_L_ETH", K_INT, 16 },
	[APIARY_F_ETH_SRC] = { "eth.src", "apiary_mac(p->eth_src)", "APIARY_L_ETH", K_MAC, 48 },
	[APIARY_F_ETH_DST] = { "eth.dst", "apiary_mac(p->eth_dst)", "APIARY_L_ETH", K_MAC, 48 },
	[APIARY_F_VLAN_ID] = { "vlan.id", "p->vlan_id", "APIARY_L_VLAN", K_INT, 12 },
	[APIARY_F_IP_SRC] = { "ip.src", "apiary_ip4(p->ip_src)", "APIARY_L_IPV4", K_IP4, 32 },
	[APIARY_F_IP_DST] = { "ip.dst", "apiary_ip4(p->ip_dst)", "APIARY_L_IPV4", K_IP4, 32 },
	[APIARY_F_IP_PROTO] = { "ip.proto", "p->ip_proto", "APIARY_L_IPV4", K_INT, 8 },
	[APIARY_F_IP_TTL] = { "ip.ttl", "p->ip_ttl", "APIARY_L_IPV4", K_INT, 8 },
	[APIARY_F_IP6_SRC] = { "ip6.src", "p->ip6_src", "APIARY_L_IPV6", K_IP6, 128 },
	[APIARY_F_IP6_DST] = { "ip6.dst", "p->ip6_dst", "APIARY_L_IPV6", K_IP6, 128 },
	[APIARY_F_IP6_PROTO] = { "ip6.proto", "p->ip_proto", "APIARY_L_IPV6", K_INT, 8 },
	[APIARY_F_IP6_TTL] = { "ip6.ttl", "p->ip_ttl", "APIARY_L_IPV6", K_INT, 8 },
	[APIARY_F_TCP_SPORT] = { "tcp.sport", "p->sport", "APIARY_L_TCP", K_INT, 16 },
	[APIARY_F_TCP_DPORT] = { "tcp.dport", "p->dport", "APIARY_L_TCP", K_INT, 16 },
	[APIARY_F_TCP_FLAGS] = { "tcp.flags", "p->tcp_flags", "APIARY_L_TCP", K_INT, 8 },
	[APIARY_F_UDP_SPORT] = { "udp.sport", "p->sport", "APIARY_L_UDP", K_INT, 16 },
	[APIARY_F_UDP_DPORT] = { "udp.dport", "p->dport", "APIARY_L_UDP", K_INT, 16 },
	[APIARY_F_ICMP_TYPE] = { "icmp.type", "p->icmp_type", "APIARY_L_ICMP", K_INT, 8 },
	[APIARY_F_L4_SPORT] = { "l4.sport", "p->sport", "APIARY_L_L4", K_INT, 16 },
	[APIARY_F_L4_DPORT] = { "l4.dport", "p->dport", "APIARY_L_L4", K_INT, 16 },
};

static const char *const hook_macro[APIARY_HOOK__COUNT] = {
	[APIARY_HOOK_XDP] = "APIARY_HOOK_ID_XDP",
	[APIARY_HOOK_TC_INGRESS] = "APIARY_HOOK_ID_TC_INGRESS",
	[APIARY_HOOK_TC_EGRESS] = "APIARY_HOOK_ID_TC_EGRESS",
};

static const char *const hook_spelling[APIARY_HOOK__COUNT] = {
	[APIARY_HOOK_NONE] = "none",
	[APIARY_HOOK_XDP] = "xdp",
	[APIARY_HOOK_TC_INGRESS] = "tc.ingress",
	[APIARY_HOOK_TC_EGRESS] = "tc.egress",
};

static const char *hook_str(enum apiary_hook h)
{
	return h > APIARY_HOOK_NONE && h < APIARY_HOOK__COUNT ? hook_spelling[h] : "none";
}

/* The spec's code of enforcer e at vslot: its own (0) or its update's (1). */
const struct apiary_code *apiary_gen_code(const struct apiary_spec *s, int e, int vslot,
					  uint32_t *version)
{
	const struct apiary_enforcer *en;

	if (e < 0 || (size_t)e >= s->nenforcers)
		return NULL;
	en = &s->enforcers[e];
	if (vslot == 0) {
		if (version)
			*version = en->version;
		return &en->code;
	}
	if (vslot != 1)
		return NULL;
	for (size_t i = 0; i < s->nupdates; i++) {
		if (s->updates[i].enforcer.s && en->name.s &&
		    strcmp(s->updates[i].enforcer.s, en->name.s) == 0) {
			if (version)
				*version = s->updates[i].version;
			return &s->updates[i].code;
		}
	}
	return NULL;
}

/* Prebuilt programs, as the bitmask the BPF side tests before a tail call. */
uint64_t apiary_gen_opaque_slots(const struct apiary_spec *s)
{
	uint64_t mask = 0;

	for (size_t e = 0; e < s->nenforcers && e < APIARY_MAX_ENFORCERS; e++) {
		for (int v = 0; v < APIARY_NVSLOTS; v++) {
			const struct apiary_code *c = apiary_gen_code(s, (int)e, v, NULL);

			if (c && c->prebuilt)
				mask |= 1ull << APIARY_PROG_SLOT(e, v);
		}
	}
	return mask;
}

/* Spec identifiers may hold characters C does not: map them to '_'. */
void apiary_gen_ident(char *dst, size_t size, const char *name, int upper)
{
	size_t i = 0;

	if (!size)
		return;
	for (; name && name[i] && i + 1 < size; i++) {
		unsigned char ch = (unsigned char)name[i];

		if (!isalnum(ch))
			ch = '_';
		dst[i] = (char)(upper ? toupper(ch) : ch);
	}
	dst[i] = '\0';
}

/* ---- predicates ---------------------------------------------------------- */

static uint64_t lit_addr_int(const struct apiary_literal *l, int nbytes)
{
	uint64_t v = 0;

	for (int i = 0; i < nbytes; i++)
		v = (v << 8) | l->addr[i];
	return v;
}

static uint32_t lit_word(const struct apiary_literal *l, int i)
{
	return ((uint32_t)l->addr[4 * i] << 24) | ((uint32_t)l->addr[4 * i + 1] << 16) |
	       ((uint32_t)l->addr[4 * i + 2] << 8) | (uint32_t)l->addr[4 * i + 3];
}

static const char *op_c(enum apiary_cmp_op op)
{
	switch (op) {
	case APIARY_OP_EQ: return "==";
	case APIARY_OP_NE: return "!=";
	case APIARY_OP_LT: return "<";
	case APIARY_OP_LE: return "<=";
	case APIARY_OP_GT: return ">";
	case APIARY_OP_GE: return ">=";
	}
	return "==";
}

/* Print a literal as a trailing comment when its C spelling hides it. */
static void lit_comment(FILE *f, const struct apiary_literal *l, enum gen_kind k)
{
	if (k == K_IP4 && l->kind == APIARY_LIT_IPV4) {
		fprintf(f, " /* %u.%u.%u.%u", l->addr[0], l->addr[1], l->addr[2], l->addr[3]);
		if (l->prefix >= 0 && l->prefix < 32)
			fprintf(f, "/%d", l->prefix);
		fprintf(f, " */");
	} else if (k == K_MAC && l->kind == APIARY_LIT_MAC) {
		fprintf(f, " /* %02x:%02x:%02x:%02x:%02x:%02x */", l->addr[0], l->addr[1],
			l->addr[2], l->addr[3], l->addr[4], l->addr[5]);
	}
}

/* The integer a literal denotes for an integer-like field; -EINVAL if the
 * kinds do not fit (the semantic pass should have said so already). */
static int lit_value(const struct gen_field *gf, const struct apiary_literal *l, uint64_t *v,
		     struct apiary_diags *d)
{
	switch (gf->kind) {
	case K_INT:
		if (l->kind == APIARY_LIT_INT) {
			*v = l->u;
			return 0;
		}
		break;
	case K_IP4:
		if (l->kind == APIARY_LIT_IPV4) {
			*v = lit_addr_int(l, 4);
			return 0;
		}
		if (l->kind == APIARY_LIT_INT) {
			*v = l->u;
			return 0;
		}
		break;
	case K_MAC:
		if (l->kind == APIARY_LIT_MAC) {
			*v = lit_addr_int(l, 6);
			return 0;
		}
		if (l->kind == APIARY_LIT_INT) {
			*v = l->u;
			return 0;
		}
		break;
	case K_IP6:
		break;
	}
	return apiary_error(d, &l->loc, "literal does not fit field %s", gf->name);
}

/* Decimal for counts and ports, hex where bits or EtherTypes are meant. */
static void print_uint(FILE *f, const struct gen_field *gf, uint64_t v)
{
	if (gf->kind == K_MAC)
		fprintf(f, "0x%012" PRIx64 "ull", v);
	else if (gf->kind == K_IP4)
		fprintf(f, "0x%08" PRIx64, v);
	else if (strcmp(gf->name, "eth.type") == 0)
		fprintf(f, "0x%04" PRIx64, v);
	else if (strcmp(gf->name, "tcp.flags") == 0)
		fprintf(f, "0x%02" PRIx64, v);
	else
		fprintf(f, "%" PRIu64, v);
}

/* `field in CIDR` (or an address literal with a prefix inside a set). */
static int gen_cidr(FILE *f, const struct gen_field *gf, const struct apiary_literal *l,
		    struct apiary_diags *d)
{
	if (gf->kind == K_IP6 && l->kind == APIARY_LIT_IPV6) {
		int plen = l->prefix < 0 || l->prefix > 128 ? 128 : l->prefix;

		fprintf(f, "apiary_ip6_in(%s, 0x%08x, 0x%08x, 0x%08x, 0x%08x, %d)", gf->expr,
			lit_word(l, 0), lit_word(l, 1), lit_word(l, 2), lit_word(l, 3), plen);
		return 0;
	}
	if (gf->kind == K_IP4 && l->kind == APIARY_LIT_IPV4) {
		int plen = l->prefix < 0 || l->prefix > 32 ? 32 : l->prefix;
		uint32_t mask = plen == 0 ? 0 : (uint32_t)(0xffffffffu << (32 - plen));
		uint32_t v = (uint32_t)lit_addr_int(l, 4);

		if (plen == 0)
			fprintf(f, "1 /* 0.0.0.0/0 */");
		else if (plen == 32)
			fprintf(f, "%s == 0x%08x", gf->expr, v);
		else
			fprintf(f, "(%s & 0x%08x) == 0x%08x", gf->expr, mask, v & mask);
		lit_comment(f, l, gf->kind);
		return 0;
	}
	return apiary_error(d, &l->loc, "an address prefix does not fit field %s", gf->name);
}

/* One test of `field == literal` inside a set. */
static int gen_set_item(FILE *f, const struct gen_field *gf, const struct apiary_literal *l,
			struct apiary_diags *d)
{
	uint64_t v;
	int err;

	if (l->kind == APIARY_LIT_IPV4 || l->kind == APIARY_LIT_IPV6)
		return gen_cidr(f, gf, l, d);
	if (l->kind == APIARY_LIT_RANGE) {
		fprintf(f, "(%s >= %" PRIu64 " && %s <= %" PRIu64 ")", gf->expr, l->lo, gf->expr,
			l->hi);
		return 0;
	}
	err = lit_value(gf, l, &v, d);
	if (err)
		return err;
	fprintf(f, "%s == ", gf->expr);
	print_uint(f, gf, v);
	lit_comment(f, l, gf->kind);
	return 0;
}

/* The field's own test, without its layer check. */
static int gen_test(FILE *f, const struct apiary_pred *p, const struct gen_field *gf,
		    struct apiary_diags *d)
{
	const struct apiary_literal *l = &p->value;
	uint64_t v;
	int err;

	switch (p->kind) {
	case APIARY_P_CMP:
		if (gf->kind == K_IP6) {
			if (l->kind != APIARY_LIT_IPV6)
				return apiary_error(d, &l->loc, "field %s needs an IPv6 address",
						    gf->name);
			fprintf(f, "apiary_ip6_cmp(%s, 0x%08x, 0x%08x, 0x%08x, 0x%08x) %s 0", gf->expr,
				lit_word(l, 0), lit_word(l, 1), lit_word(l, 2), lit_word(l, 3),
				op_c(p->op));
			return 0;
		}
		err = lit_value(gf, l, &v, d);
		if (err)
			return err;
		fprintf(f, "%s %s ", gf->expr, op_c(p->op));
		print_uint(f, gf, v);
		lit_comment(f, l, gf->kind);
		return 0;
	case APIARY_P_HAS:
		err = lit_value(gf, l, &v, d);
		if (err)
			return err;
		fprintf(f, "(%s & ", gf->expr);
		print_uint(f, gf, v);
		fprintf(f, ") == ");
		print_uint(f, gf, v);
		return 0;
	case APIARY_P_IN:
		switch (l->kind) {
		case APIARY_LIT_RANGE:
			if (gf->kind == K_IP6)
				break;
			fprintf(f, "%s >= ", gf->expr);
			print_uint(f, gf, l->lo);
			fprintf(f, " && %s <= ", gf->expr);
			print_uint(f, gf, l->hi);
			return 0;
		case APIARY_LIT_SET:
			if (l->nitems == 0) {
				fprintf(f, "0 /* empty set */");
				return 0;
			}
			fprintf(f, "(");
			for (size_t i = 0; i < l->nitems; i++) {
				if (i)
					fprintf(f, " || ");
				err = gen_set_item(f, gf, &l->items[i], d);
				if (err)
					return err;
			}
			fprintf(f, ")");
			return 0;
		case APIARY_LIT_IPV4:
		case APIARY_LIT_IPV6:
			return gen_cidr(f, gf, l, d);
		default:
			return gen_set_item(f, gf, l, d);
		}
		break;
	default:
		break;
	}
	return apiary_error(d, &p->loc, "cannot compile this test on field %s", gf->name);
}

/* Operands of a chain of the same operator (a or b or c), left to right. */
static void flatten(const struct apiary_pred *p, enum apiary_pred_kind k,
		    const struct apiary_pred **out, size_t *n, size_t max)
{
	if (p && p->kind == k) {
		flatten(p->lhs, k, out, n, max);
		flatten(p->rhs, k, out, n, max);
	} else if (*n < max) {
		out[(*n)++] = p;
	}
}

/* depth 0 puts each operand of the top and/or chain on its own line. */
static int gen_pred(FILE *f, const struct apiary_pred *p, int depth, struct apiary_diags *d)
{
	const struct gen_field *gf;
	int err;

	if (!p)
		return apiary_error(d, NULL, "empty predicate");
	switch (p->kind) {
	case APIARY_P_AND:
	case APIARY_P_OR: {
		const char *op = p->kind == APIARY_P_AND ? "&&" : "||";
		const struct apiary_pred *ops[256];
		size_t n = 0;

		flatten(p, p->kind, ops, &n, 256);
		if (n == 256)
			return apiary_error(d, &p->loc, "predicate too long (256 operands)");
		if (depth)
			fprintf(f, "(");
		for (size_t i = 0; i < n; i++) {
			if (i)
				fprintf(f, depth ? " %s " : " %s\n\t       ", op);
			err = gen_pred(f, ops[i], depth + 1, d);
			if (err)
				return err;
		}
		if (depth)
			fprintf(f, ")");
		return 0;
	}
	case APIARY_P_NOT:
		/* Below the top every operand prints with its own parentheses. */
		fprintf(f, "!");
		return gen_pred(f, p->lhs, depth + 1, d);
	case APIARY_P_CMP:
	case APIARY_P_IN:
	case APIARY_P_HAS:
		if ((unsigned)p->field >= APIARY_F__COUNT)
			return apiary_error(d, &p->loc, "unknown field");
		gf = &gen_fields[p->field];
		/* A field implies its layer: the test is false without it. */
		fprintf(f, "((p->layers & %s) && ", gf->layer);
		err = gen_test(f, p, gf, d);
		if (err)
			return err;
		fprintf(f, ")");
		return 0;
	}
	return apiary_error(d, &p->loc, "unknown predicate node");
}

int apiary_gen_pred(FILE *f, const struct apiary_pred *pred, struct apiary_diags *d)
{
	return gen_pred(f, pred, 0, d);
}

/* ---- apiary_bundle.h -------------------------------------------------------- */

static const char *map_type(enum apiary_map_kind k)
{
	switch (k) {
	case APIARY_MAP_HASH: return "BPF_MAP_TYPE_HASH";
	case APIARY_MAP_LRU_HASH: return "BPF_MAP_TYPE_LRU_HASH";
	case APIARY_MAP_ARRAY: return "BPF_MAP_TYPE_ARRAY";
	case APIARY_MAP_PERCPU_HASH: return "BPF_MAP_TYPE_PERCPU_HASH";
	case APIARY_MAP_PERCPU_ARRAY: return "BPF_MAP_TYPE_PERCPU_ARRAY";
	}
	return "BPF_MAP_TYPE_HASH";
}

static const char *map_kind_spelling(enum apiary_map_kind k)
{
	switch (k) {
	case APIARY_MAP_HASH: return "hash";
	case APIARY_MAP_LRU_HASH: return "lru_hash";
	case APIARY_MAP_ARRAY: return "array";
	case APIARY_MAP_PERCPU_HASH: return "percpu_hash";
	case APIARY_MAP_PERCPU_ARRAY: return "percpu_array";
	}
	return "hash";
}

/* C spelling of a state type. */
static void type_c(char *buf, size_t size, const struct apiary_type *t)
{
	switch (t->kind) {
	case APIARY_TY_U8: snprintf(buf, size, "__u8"); break;
	case APIARY_TY_U16: snprintf(buf, size, "__u16"); break;
	case APIARY_TY_U32: snprintf(buf, size, "__u32"); break;
	case APIARY_TY_U64: snprintf(buf, size, "__u64"); break;
	case APIARY_TY_BYTES: snprintf(buf, size, "struct apiary_bytes_%u", t->size); break;
	case APIARY_TY_FLOW: snprintf(buf, size, "struct apiary_flow_key"); break;
	}
}

/* Spec spelling of a state type, for comments. */
static void type_spec(char *buf, size_t size, const struct apiary_type *t)
{
	switch (t->kind) {
	case APIARY_TY_U8: snprintf(buf, size, "u8"); break;
	case APIARY_TY_U16: snprintf(buf, size, "u16"); break;
	case APIARY_TY_U32: snprintf(buf, size, "u32"); break;
	case APIARY_TY_U64: snprintf(buf, size, "u64"); break;
	case APIARY_TY_BYTES: snprintf(buf, size, "bytes[%u]", t->size); break;
	case APIARY_TY_FLOW: snprintf(buf, size, "%s", t->ref.s ? t->ref.s : "?"); break;
	}
}

static void print_key_list(FILE *f, const struct apiary_classifier *c)
{
	for (size_t i = 0; i < c->nkeys; i++) {
		unsigned k = c->keys[i];

		fprintf(f, "%s%s", i ? ", " : "", k < APIARY_F__COUNT ? gen_fields[k].name : "?");
	}
}

/* Emit `struct apiary_bytes_N` once per size, before the maps using it. */
static void gen_bytes_types(FILE *f, const struct apiary_spec *s)
{
	for (size_t i = 0; i < s->nstates; i++) {
		const struct apiary_type *ts[2] = { &s->states[i].key, &s->states[i].value };

		for (int t = 0; t < 2; t++) {
			int seen = 0;

			if (ts[t]->kind != APIARY_TY_BYTES)
				continue;
			for (size_t j = 0; j <= i && !seen; j++) {
				const struct apiary_type *us[2] = { &s->states[j].key,
								    &s->states[j].value };

				for (int u = 0; u < 2 && !seen; u++) {
					if (j == i && u >= t)
						break;
					seen = us[u]->kind == APIARY_TY_BYTES &&
					       us[u]->size == ts[t]->size;
				}
			}
			if (!seen)
				fprintf(f, "struct apiary_bytes_%u {\n\t__u8 b[%u];\n};\n\n",
					ts[t]->size, ts[t]->size);
		}
	}
}

int apiary_gen_bundle_h(FILE *f, const struct apiary_spec *s, struct apiary_diags *d)
{
	const struct apiary_classifier *c = s->classifier;
	uint64_t opaque = apiary_gen_opaque_slots(s);
	char id[128], kt[64], vt[64];
	int err = 0;

	fprintf(f, "/* Generated by apiary from bundle %s version %u. Do not edit. */\n",
		s->bundle.s ? s->bundle.s : "?", s->version);
	fprintf(f, "#ifndef APIARY_BUNDLE_H\n#define APIARY_BUNDLE_H\n\n");
	fprintf(f, "#define APIARY_BUNDLE_NAME \"%s\"\n", s->bundle.s ? s->bundle.s : "");
	fprintf(f, "#define APIARY_BUNDLE_VERSION %u\n\n", s->version);

	if (c) {
		fprintf(f, "/* classifier %s at %s { key ", c->name.s, hook_str(c->hook));
		print_key_list(f, c);
		fprintf(f, " } */\n");
		if (c->hook <= APIARY_HOOK_NONE || c->hook >= APIARY_HOOK__COUNT)
			return apiary_error(d, &c->hook_loc, "classifier %s has no hook",
					    c->name.s);
		fprintf(f, "#define APIARY_CLASSIFIER_HOOK %s\n\n", hook_macro[c->hook]);
	}

	if (s->nenforcers > APIARY_MAX_ENFORCERS)
		return apiary_error(d, &s->enforcers[APIARY_MAX_ENFORCERS].loc,
				    "at most %d enforcers per bundle", APIARY_MAX_ENFORCERS);
	fprintf(f, "/* Enforcers: index in the spec (trace, apiary_chain, apiary_routes)\n"
		   " * and hook. */\n");
	fprintf(f, "#define APIARY_NENFORCERS %zu\n", s->nenforcers);
	for (size_t e = 0; e < s->nenforcers; e++) {
		const struct apiary_enforcer *en = &s->enforcers[e];

		if (en->hook <= APIARY_HOOK_NONE || en->hook >= APIARY_HOOK__COUNT)
			return apiary_error(d, &en->hook_loc, "enforcer %s has no hook",
					    en->name.s);
		apiary_gen_ident(id, sizeof(id), en->name.s, 1);
		fprintf(f, "#define APIARY_ENF_%s %zu\n", id, e);
		fprintf(f, "#define APIARY_ENF_%s_HOOK %s\n", id, hook_macro[en->hook]);
	}
	fprintf(f, "\n/* Program slots (APIARY_PROG_SLOT) holding prebuilt objects. */\n");
	fprintf(f, "#define APIARY_OPAQUE_SLOTS 0x%" PRIx64 "ull\n", opaque);

	if (s->nstates)
		fprintf(f, "\n/* ---- declared state ---- */\n\n");
	gen_bytes_types(f, s);
	for (size_t i = 0; i < s->nstates; i++) {
		const struct apiary_state *st = &s->states[i];

		if ((st->kind == APIARY_MAP_ARRAY || st->kind == APIARY_MAP_PERCPU_ARRAY) &&
		    st->key.kind != APIARY_TY_U32) {
			err = apiary_error(d, &st->key.loc,
					   "state %s: an array's key must be u32 (the kernel "
					   "indexes arrays by a 4-byte integer)",
					   st->name.s);
			continue;
		}
		type_spec(kt, sizeof(kt), &st->key);
		type_spec(vt, sizeof(vt), &st->value);
		fprintf(f, "/* state %s : %s(%s -> %s) max %u */\n", st->name.s,
			map_kind_spelling(st->kind), kt, vt, st->max_entries);
		type_c(kt, sizeof(kt), &st->key);
		type_c(vt, sizeof(vt), &st->value);
		apiary_gen_ident(id, sizeof(id), st->name.s, 0);
		fprintf(f, "struct {\n");
		fprintf(f, "\t__uint(type, %s);\n", map_type(st->kind));
		fprintf(f, "\t__uint(max_entries, %u);\n", st->max_entries);
		fprintf(f, "\t__type(key, %s);\n", kt);
		fprintf(f, "\t__type(value, %s);\n", vt);
		fprintf(f, "} %s SEC(\".maps\");\n\n", id);
	}
	fprintf(f, "%s#endif\n", s->nstates ? "" : "\n");
	return err;
}

/* ---- sidecar.bpf.c ---------------------------------------------------------- */

/* Where a key field goes in struct apiary_flow_key. */
static int gen_key_field(FILE *f, const struct apiary_classifier *c, size_t i,
			 struct apiary_diags *d)
{
	enum apiary_field k = c->keys[i];
	const struct apiary_loc *loc = c->key_locs ? &c->key_locs[i] : &c->loc;

	switch (k) {
	case APIARY_F_IP_SRC:
	case APIARY_F_IP_DST:
		fprintf(f, "\tif (p->layers & APIARY_L_IPV4) {\n");
		fprintf(f, "\t\t__builtin_memcpy(k->%s, &p->%s, 4);\n",
			k == APIARY_F_IP_SRC ? "src" : "dst", k == APIARY_F_IP_SRC ? "ip_src" : "ip_dst");
		fprintf(f, "\t\tk->family = 4;\n\t}\n");
		return 0;
	case APIARY_F_IP6_SRC:
	case APIARY_F_IP6_DST:
		fprintf(f, "\tif (p->layers & APIARY_L_IPV6) {\n");
		fprintf(f, "\t\t__builtin_memcpy(k->%s, p->%s, 16);\n",
			k == APIARY_F_IP6_SRC ? "src" : "dst",
			k == APIARY_F_IP6_SRC ? "ip6_src" : "ip6_dst");
		fprintf(f, "\t\tk->family = 6;\n\t}\n");
		return 0;
	case APIARY_F_IP_PROTO:
	case APIARY_F_IP6_PROTO:
		fprintf(f, "\tif (p->layers & %s) {\n", gen_fields[k].layer);
		fprintf(f, "\t\tk->proto = p->ip_proto;\n");
		fprintf(f, "\t\tk->family = %d;\n\t}\n", k == APIARY_F_IP_PROTO ? 4 : 6);
		return 0;
	case APIARY_F_TCP_SPORT:
	case APIARY_F_UDP_SPORT:
	case APIARY_F_L4_SPORT:
		fprintf(f, "\tif (p->layers & %s)\n\t\tk->sport = p->sport;\n", gen_fields[k].layer);
		return 0;
	case APIARY_F_TCP_DPORT:
	case APIARY_F_UDP_DPORT:
	case APIARY_F_L4_DPORT:
		fprintf(f, "\tif (p->layers & %s)\n\t\tk->dport = p->dport;\n", gen_fields[k].layer);
		return 0;
	default:
		break;
	}
	return apiary_error(d, loc,
			    "classifier %s: key field %s has no place in the flow key (use "
			    "ip.src, ip.dst, ip.proto, ip6.src, ip6.dst, ip6.proto or ports)",
			    c->name.s, (unsigned)k < APIARY_F__COUNT ? gen_fields[k].name : "?");
}

/* Is any of the fields (up to three, APIARY_F__COUNT = unused) a key? */
static int has_key(const struct apiary_classifier *c, enum apiary_field a, enum apiary_field b,
		   enum apiary_field x)
{
	for (size_t i = 0; i < c->nkeys; i++)
		if (c->keys[i] == a || c->keys[i] == b || c->keys[i] == x)
			return 1;
	return 0;
}

static int gen_classifier(FILE *f, const struct apiary_classifier *c, struct apiary_diags *d)
{
	char text[1024];
	int err = 0;

	/* Match predicate. */
	if (!c) {
		fprintf(f, "/* No classifier: no packet matches, no flows. */\n");
		fprintf(f, "static __always_inline int apiary_match(const struct apiary_pkt *p)\n"
			   "{\n\treturn 0;\n}\n\n");
	} else if (!c->match) {
		fprintf(f, "/* classifier %s: no match, every packet matches. */\n", c->name.s);
		fprintf(f, "static __always_inline int apiary_match(const struct apiary_pkt *p)\n"
			   "{\n\treturn 1;\n}\n\n");
	} else {
		apiary_pred_format(c->match, text, sizeof(text));
		fprintf(f, "/* classifier %s: match %s */\n", c->name.s, text);
		fprintf(f, "static __always_inline int apiary_match(const struct apiary_pkt *p)\n"
			   "{\n\treturn ");
		err = apiary_gen_pred(f, c->match, d);
		if (err)
			return err;
		fprintf(f, ";\n}\n\n");
	}

	/* Flow key. */
	if (!c) {
		fprintf(f, "static __always_inline __u32 apiary_key(const struct apiary_pkt *p,\n"
			   "\t\t\t\t\t  struct apiary_flow_key *k)\n{\n\treturn 0;\n}\n\n");
		return 0;
	}
	fprintf(f, "/* Flow key of %s: ", c->name.s);
	print_key_list(f, c);
	fprintf(f, ".\n * Fields of layers the packet lacks stay zero. Returns 1 if the "
		   "endpoints\n * were swapped into canonical order. */\n");
	fprintf(f, "static __always_inline __u32 apiary_key(const struct apiary_pkt *p,\n"
		   "\t\t\t\t\t  struct apiary_flow_key *k)\n{\n");
	for (size_t i = 0; i < c->nkeys; i++)
		err = err ?: gen_key_field(f, c, i, d);
	if (err)
		return err;
	/* Canonical order only makes sense when both endpoints are keyed. */
	if ((has_key(c, APIARY_F_IP_SRC, APIARY_F_IP6_SRC, APIARY_F__COUNT) &&
	     has_key(c, APIARY_F_IP_DST, APIARY_F_IP6_DST, APIARY_F__COUNT)) ||
	    (has_key(c, APIARY_F_L4_SPORT, APIARY_F_TCP_SPORT, APIARY_F_UDP_SPORT) &&
	     has_key(c, APIARY_F_L4_DPORT, APIARY_F_TCP_DPORT, APIARY_F_UDP_DPORT)))
		fprintf(f, "\treturn apiary_key_canon(k);\n}\n\n");
	else
		fprintf(f, "\treturn 0; /* one endpoint only: no canonical order */\n}\n\n");
	return 0;
}

int apiary_gen_sidecar(FILE *f, const struct apiary_spec *s, struct apiary_diags *d)
{
	int err;

	fprintf(f, "/* Generated by apiary from bundle %s version %u. Do not edit.\n",
		s->bundle.s ? s->bundle.s : "?", s->version);
	fprintf(f, " * The sidecar: classifier, flow key and the three dispatchers; the\n"
		   " * execution model itself is in apiary/bpf/chain.h. */\n");
	fprintf(f, "#define APIARY_SIDECAR 1\n#include \"apiary/bpf/chain.h\"\n\n");
	err = gen_classifier(f, s->classifier, d);
	if (err)
		return err;
	fprintf(f, "SEC(\"xdp\")\nint apiary_xdp(struct xdp_md *ctx)\n{\n"
		   "\treturn apiary__dispatch(ctx, &apiary_progs_xdp, APIARY_HOOK_ID_XDP,\n"
		   "\t\t\t\t(void *)(long)ctx->data, (void *)(long)ctx->data_end, XDP_PASS);\n"
		   "}\n\n");
	fprintf(f, "SEC(\"tc\")\nint apiary_tc_ingress(struct __sk_buff *ctx)\n{\n"
		   "\treturn apiary__dispatch(ctx, &apiary_progs_tc, APIARY_HOOK_ID_TC_INGRESS,\n"
		   "\t\t\t\t(void *)(long)ctx->data, (void *)(long)ctx->data_end, TC_ACT_OK);\n"
		   "}\n\n");
	fprintf(f, "SEC(\"tc\")\nint apiary_tc_egress(struct __sk_buff *ctx)\n{\n"
		   "\treturn apiary__dispatch(ctx, &apiary_progs_tc, APIARY_HOOK_ID_TC_EGRESS,\n"
		   "\t\t\t\t(void *)(long)ctx->data, (void *)(long)ctx->data_end, TC_ACT_OK);\n"
		   "}\n\n");
	fprintf(f, "char LICENSE[] SEC(\"license\") = \"GPL\";\n");
	return 0;
}

/* ---- enf_<name>_v<N>.c ---------------------------------------------------------- */

int apiary_gen_wrapper(FILE *f, const struct apiary_spec *s, const struct apiary_gen_prog *p,
		       struct apiary_diags *d)
{
	const struct apiary_enforcer *en = &s->enforcers[p->enforcer];
	const char *entry = p->code->program.s;
	int xdp = p->hook == APIARY_HOOK_XDP;
	char id[128], up[128];

	if (strchr(p->source_abs, '"') || strchr(p->source_abs, '\n'))
		return apiary_error(d, &p->code->path.loc,
				    "enforcer %s: source path cannot be #included (quote or newline)",
				    en->name.s);
	apiary_gen_ident(id, sizeof(id), en->name.s, 0);
	apiary_gen_ident(up, sizeof(up), en->name.s, 1);
	fprintf(f, "/* Generated by apiary: enforcer %s (team %s) version %u at %s. Do not edit.\n",
		en->name.s, en->team.s ? en->team.s : "?", p->version, hook_str(p->hook));
	fprintf(f, " * The team's entry function becomes a subprogram of apiary_w_%s_v%u\n"
		   " * (moved to .text by the IR pass). */\n",
		id, p->version);
	fprintf(f, "#include \"%s\"\n", p->source_abs);
	fprintf(f, "#include \"apiary/bpf/chain.h\"\n\n");
	if (!entry) {
		entry = APIARY_ENTRY_PLACEHOLDER;
		fprintf(f, "/* No `program` in the spec: the IR pass binds this to the source's\n"
			   " * single SEC(\"%s\") function. */\n",
			xdp ? "xdp" : "tc");
		fprintf(f, "int %s(%s *ctx);\n\n", entry, xdp ? "struct xdp_md" : "struct __sk_buff");
	}
	fprintf(f, "SEC(\"%s\")\n", xdp ? "xdp" : "tc");
	fprintf(f, "int apiary_w_%s_v%u(%s *ctx)\n{\n", id, p->version,
		xdp ? "struct xdp_md" : "struct __sk_buff");
	fprintf(f, "\treturn apiary_wrap_%s(ctx, APIARY_ENF_%s, %d, %s(ctx));\n}\n",
		xdp ? "xdp" : "tc", up, p->vslot, entry);
	return 0;
}
