/* SPDX-License-Identifier: MIT */
/*
 * The bundle spec: AST produced by the parser, checked by the semantic pass,
 * read by the compiler, the z3 encoder and the invariant checker.
 *
 * Every node keeps the location of the token it came from, so any later
 * phase can report `file:line:col`. All memory hangs off struct apiary_spec
 * and is released by apiary_spec_free(); the parser never exits.
 */
#ifndef APIARY_SPEC_H
#define APIARY_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apiary/diag.h"

/* ---- hooks ---------------------------------------------------------- */

/* Spec spelling: "xdp", "tc.ingress", "tc.egress". */
enum apiary_hook {
	APIARY_HOOK_NONE = 0,
	APIARY_HOOK_XDP,
	APIARY_HOOK_TC_INGRESS,
	APIARY_HOOK_TC_EGRESS,
	APIARY_HOOK__COUNT,
};

const char *apiary_hook_name(enum apiary_hook h);    /* "tc.egress" */
enum apiary_hook apiary_hook_parse(const char *name); /* NONE if unknown */

/* ---- predicate language --------------------------------------------- */

/* Kinds of values a field holds or a literal denotes. */
enum apiary_vtype {
	APIARY_T_INT,  /* unsigned integer of the field's width */
	APIARY_T_IPV4, /* 4 bytes, network order */
	APIARY_T_IPV6, /* 16 bytes */
	APIARY_T_MAC,  /* 6 bytes */
};

/* Packet fields. Referring to a field implies its layer is present:
 * `tcp.dport == 23` is false for a UDP packet, `not tcp.dport == 23` true. */
enum apiary_field {
	APIARY_F_ETH_TYPE,
	APIARY_F_ETH_SRC,
	APIARY_F_ETH_DST,
	APIARY_F_VLAN_ID,
	APIARY_F_IP_SRC,
	APIARY_F_IP_DST,
	APIARY_F_IP_PROTO,
	APIARY_F_IP_TTL,
	APIARY_F_IP6_SRC,
	APIARY_F_IP6_DST,
	APIARY_F_IP6_PROTO, /* next header */
	APIARY_F_IP6_TTL,   /* hop limit */
	APIARY_F_TCP_SPORT,
	APIARY_F_TCP_DPORT,
	APIARY_F_TCP_FLAGS,
	APIARY_F_UDP_SPORT,
	APIARY_F_UDP_DPORT,
	APIARY_F_ICMP_TYPE,
	APIARY_F_L4_SPORT, /* tcp or udp source port (classifier keys) */
	APIARY_F_L4_DPORT,
	APIARY_F__COUNT,
};

/* Layers a field needs; a packet "has" a layer when it parses. */
enum apiary_layer {
	APIARY_L_ETH = 1u << 0,
	APIARY_L_VLAN = 1u << 1,
	APIARY_L_IPV4 = 1u << 2,
	APIARY_L_IPV6 = 1u << 3,
	APIARY_L_TCP = 1u << 4,
	APIARY_L_UDP = 1u << 5,
	APIARY_L_ICMP = 1u << 6,
	APIARY_L_L4 = 1u << 7, /* tcp or udp */
};

struct apiary_field_info {
	enum apiary_field id;
	const char *name;   /* "tcp.dport" */
	enum apiary_vtype type;
	unsigned bits;      /* 16 for ports, 32 for ipv4, 128 for ipv6, 48 for mac */
	unsigned layers;    /* enum apiary_layer bits required */
};

/* Table indexed by enum apiary_field; lookup by name returns NULL if unknown. */
extern const struct apiary_field_info apiary_fields[APIARY_F__COUNT];
const struct apiary_field_info *apiary_field_lookup(const char *name);

enum apiary_lit_kind {
	APIARY_LIT_INT,   /* 23, 0x800, tcp (=6), syn (=0x02) */
	APIARY_LIT_IPV4,  /* 10.0.0.1 or 10.0.0.0/8 (prefix 32 if none) */
	APIARY_LIT_IPV6,  /* 2001:db8::1 or 2001:db8::/32 */
	APIARY_LIT_MAC,   /* 02:00:00:00:00:01 */
	APIARY_LIT_RANGE, /* 1024..65535 (inclusive) */
	APIARY_LIT_SET,   /* { 22, 80, 10.0.0.0/8 } */
};

struct apiary_literal {
	enum apiary_lit_kind kind;
	struct apiary_loc loc;
	uint64_t u;         /* INT */
	uint64_t lo, hi;    /* RANGE */
	uint8_t addr[16];   /* IPV4 (first 4 bytes), IPV6, MAC (first 6) */
	int prefix;         /* IPV4/IPV6 prefix length */
	struct apiary_literal *items; /* SET */
	size_t nitems;
};

enum apiary_pred_kind {
	APIARY_P_AND,
	APIARY_P_OR,
	APIARY_P_NOT,
	APIARY_P_CMP, /* field op literal */
	APIARY_P_IN,  /* field in literal (CIDR, range or set) */
	APIARY_P_HAS, /* field has literal: all bits of literal set (tcp.flags has syn) */
};

enum apiary_cmp_op {
	APIARY_OP_EQ,
	APIARY_OP_NE,
	APIARY_OP_LT,
	APIARY_OP_LE,
	APIARY_OP_GT,
	APIARY_OP_GE,
};

struct apiary_pred {
	enum apiary_pred_kind kind;
	struct apiary_loc loc;
	struct apiary_pred *lhs, *rhs; /* AND/OR: both; NOT: lhs */
	enum apiary_field field;       /* CMP/IN/HAS */
	enum apiary_cmp_op op;         /* CMP */
	struct apiary_literal value;   /* CMP/IN/HAS */
};

/* ---- declarations --------------------------------------------------- */

/* An identifier with where it was written. */
struct apiary_name {
	char *s;
	struct apiary_loc loc;
};

struct apiary_classifier {
	struct apiary_name name; /* e.g. "conn": also the flow-key type name */
	enum apiary_hook hook;
	struct apiary_loc hook_loc;
	enum apiary_field *keys; /* fields forming the flow key */
	struct apiary_loc *key_locs;
	size_t nkeys;
	struct apiary_pred *match; /* NULL: every packet */
	struct apiary_loc loc;
	/* `flows max N`: size of the flow-to-version table (apiary_flows);
	 * 0 = APIARY_MAX_FLOWS. `idle N`: a flow silent for more than N ticks
	 * of the logical clock (apiary_rt_set_clock) leaves its pins; 0 = never. */
	uint32_t max_flows;
	uint32_t idle;
	struct apiary_loc max_flows_loc, idle_loc;
};

enum apiary_map_kind {
	APIARY_MAP_HASH,
	APIARY_MAP_LRU_HASH,
	APIARY_MAP_ARRAY,
	APIARY_MAP_PERCPU_HASH,
	APIARY_MAP_PERCPU_ARRAY,
};

/* A type in a state declaration: a scalar, bytes[N], or the flow key of a
 * classifier (by name). */
struct apiary_type {
	enum { APIARY_TY_U8, APIARY_TY_U16, APIARY_TY_U32, APIARY_TY_U64, APIARY_TY_BYTES,
	       APIARY_TY_FLOW } kind;
	unsigned size;          /* bytes; for FLOW filled by sema */
	struct apiary_name ref; /* FLOW: classifier name */
	struct apiary_loc loc;
};

/* state NAME : KIND(KEY -> VALUE) max N */
struct apiary_state {
	struct apiary_name name;
	enum apiary_map_kind kind;
	struct apiary_type key, value;
	uint32_t max_entries;
	struct apiary_loc loc;
};

/* One field of a config key/value: `addr 192.0.2.10` */
struct apiary_cfg_field {
	struct apiary_name name;
	struct apiary_literal value;
};

/* `{ f v, ... }` (typed through BTF) or raw hex bytes `0x0a000001`. */
struct apiary_cfg_value {
	bool raw;
	uint8_t *bytes; /* raw */
	size_t nbytes;
	struct apiary_cfg_field *fields; /* !raw */
	size_t nfields;
	struct apiary_loc loc;
};

/* config MAP { key VALUE value VALUE }: one initial map entry. */
struct apiary_config {
	struct apiary_name map;
	struct apiary_cfg_value key, value;
	struct apiary_loc loc;
};

/* global NAME = literal: sets a global variable of the program. */
struct apiary_global {
	struct apiary_name name;
	struct apiary_literal value;
	struct apiary_loc loc;
};

enum apiary_verdict_kind {
	APIARY_V_DROP,
	APIARY_V_PASS,
	APIARY_V_TX,
	APIARY_V_REDIRECT,
	APIARY_V_ABORTED,
};

/* effect VERDICT when PRED */
struct apiary_effect {
	enum apiary_verdict_kind verdict;
	struct apiary_pred *when;
	struct apiary_loc loc;
};

/* Where an enforcer's code comes from. Paths are as written in the spec and
 * also resolved against the spec's directory. */
struct apiary_code {
	bool prebuilt;             /* object "..." (opaque) vs source "..." */
	struct apiary_name path;   /* as written */
	char *resolved;            /* absolute or spec-relative path on disk */
	struct apiary_name program; /* optional: program (function) name; s NULL if absent */
};

struct apiary_enforcer {
	struct apiary_name name;
	struct apiary_name team;
	uint32_t version;
	enum apiary_hook hook;
	struct apiary_loc hook_loc;
	struct apiary_code code;
	struct apiary_effect *effects;
	size_t neffects;
	struct apiary_name *reads; /* classifier or state names */
	size_t nreads;
	struct apiary_name *writes; /* state names */
	size_t nwrites;
	struct apiary_config *configs;
	size_t nconfigs;
	struct apiary_global *globals;
	size_t nglobals;
	struct apiary_loc loc;
};

/* update E to version N { source|object ... } : a second version of E. */
struct apiary_update {
	struct apiary_name enforcer;
	uint32_t version;
	struct apiary_code code;
	struct apiary_config *configs;
	size_t nconfigs;
	struct apiary_global *globals;
	size_t nglobals;
	struct apiary_loc loc;
};

struct apiary_order {
	struct apiary_name before, after;
	struct apiary_loc loc;
};

struct apiary_cover {
	struct apiary_name enforcer;
	struct apiary_pred *sees;
	struct apiary_loc loc;
};

struct apiary_exclusive {
	struct apiary_name state, owner;
	struct apiary_loc loc;
};

struct apiary_flow_consistent {
	struct apiary_name enforcer;
	struct apiary_loc loc;
};

/* One line of a migration: `NEW = old.OLD` (copy, integer widths may
 * differ) or `NEW = literal`. */
struct apiary_migrate_assign {
	struct apiary_name field;     /* member of the new value type */
	struct apiary_name from;      /* member of the old value type; s NULL for a literal */
	struct apiary_literal value;  /* when from.s is NULL */
	struct apiary_loc loc;
};

/* migrate state X from V1 to V2 { assign* }: converts every entry of map X
 * of the enforcer whose version V1 is updated to V2, at the update. */
struct apiary_migrate {
	struct apiary_name state;
	uint32_t from, to;
	struct apiary_migrate_assign *assigns;
	size_t nassigns;
	struct apiary_name enforcer; /* filled by sema: the enforcer updated from -> to */
	struct apiary_loc loc;
};

struct apiary_spec {
	char *path; /* as given */
	char *dir;  /* directory of path, for resolving source/object paths */
	char *text; /* whole file, NUL-terminated: diagnostics quote it */

	struct apiary_name bundle;
	uint32_t version;

	struct apiary_classifier *classifier; /* NULL if none declared */
	struct apiary_state *states;
	size_t nstates;
	struct apiary_enforcer *enforcers;
	size_t nenforcers;
	struct apiary_update *updates;
	size_t nupdates;
	struct apiary_order *orders;
	size_t norders;
	struct apiary_cover *covers;
	size_t ncovers;
	struct apiary_exclusive *exclusives;
	size_t nexclusives;
	struct apiary_flow_consistent *flow_consistent;
	size_t nflow_consistent;
	struct apiary_migrate *migrations;
	size_t nmigrations;
};

/* Parse `text` (path is used for messages and for resolving relative paths).
 * Returns 0 and *out on success; on syntax errors returns -EINVAL with every
 * error appended to diags (the parser recovers and keeps going). *out is
 * still set to the partial AST on error so a caller may inspect it; free it. */
int apiary_spec_parse(const char *path, const char *text, size_t len, struct apiary_spec **out,
		      struct apiary_diags *diags);

/* Read the file and parse it; a missing file is an error in diags. */
int apiary_spec_parse_file(const char *path, struct apiary_spec **out, struct apiary_diags *diags);

/* Semantic checks: unknown/duplicate names, cycles in order, type errors in
 * predicates, missing source/object files, undeclared state, ... Every error
 * is reported; returns -EINVAL if any. */
int apiary_spec_check(struct apiary_spec *spec, struct apiary_diags *diags);

/* parse_file + check. */
int apiary_spec_load(const char *path, struct apiary_spec **out, struct apiary_diags *diags);

void apiary_spec_free(struct apiary_spec *spec);

/* `apiary-check OLD.spec --update NEW.spec`: every enforcer of `newer`
 * whose version differs from the same enforcer in `spec` becomes an
 * `update E to version N` of spec (code, config and global taken over), and
 * newer's migrations and flow-consistent declarations are added. Both specs
 * must be checked. Nodes are moved out of `newer`, whose text the moved
 * locations still borrow: free it only after spec. -EINVAL with diags if an
 * enforcer is missing or not newer, or already has an update. */
int apiary_spec_add_update(struct apiary_spec *spec, struct apiary_spec *newer,
			   struct apiary_diags *diags);

/* Find declarations by name; NULL if absent. */
const struct apiary_enforcer *apiary_spec_enforcer(const struct apiary_spec *s, const char *name);
const struct apiary_state *apiary_spec_state(const struct apiary_spec *s, const char *name);
int apiary_spec_enforcer_index(const struct apiary_spec *s, const char *name); /* -1 if absent */

/* The ordering rule the checker and the fuzzer share: before[a * stride + b]
 * is set when enforcer a must run before b — declared `order` constraints
 * closed transitively, and every prebuilt enforcer after the others at its
 * hook (control does not come back from it). before must hold
 * nenforcers * stride entries, stride >= nenforcers; it is not cleared. */
void apiary_spec_must_precede(const struct apiary_spec *s, bool *before, size_t stride);

/* Print a predicate back in spec syntax (for reports); returns bytes written
 * like snprintf. */
int apiary_pred_format(const struct apiary_pred *p, char *buf, size_t size);

#endif
