// SPDX-License-Identifier: MIT
/* Hand-built ASTs for the compiler tests (see specs.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "specs.h"

/* A spec and every allocation hanging off it. */
struct tspec {
	struct apiary_spec s; /* first: the pointer handed out */
	void **ptrs;
	size_t n;
};

static struct tspec *cur;

static void *tz(size_t size)
{
	void *p = calloc(1, size);

	cur->ptrs = realloc(cur->ptrs, (cur->n + 1) * sizeof(*cur->ptrs));
	cur->ptrs[cur->n++] = p;
	return p;
}

static char *tstr(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	cur->ptrs = realloc(cur->ptrs, (cur->n + 1) * sizeof(*cur->ptrs));
	cur->ptrs[cur->n++] = s;
	return s;
}

static struct apiary_name nm(const char *s)
{
	return (struct apiary_name){ .s = tstr("%s", s) };
}

static struct apiary_spec *begin(const char *name, uint32_t version, const char *text)
{
	cur = calloc(1, sizeof(*cur));
	cur->s.bundle = nm(name);
	cur->s.version = version;
	cur->s.text = tstr("%s", text);
	cur->s.path = tstr("%s.spec", name);
	cur->s.dir = tstr(".");
	return &cur->s;
}

void tspec_free(struct apiary_spec *s)
{
	struct tspec *t = (struct tspec *)s;

	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->ptrs[i]);
	free(t->ptrs);
	free(t);
}

/* ---- literals and predicates ---- */

static struct apiary_literal lint(uint64_t v)
{
	return (struct apiary_literal){ .kind = APIARY_LIT_INT, .u = v, .prefix = -1 };
}

static struct apiary_literal lip4(int a, int b, int c, int d, int prefix)
{
	struct apiary_literal l = { .kind = APIARY_LIT_IPV4, .prefix = prefix };

	l.addr[0] = (uint8_t)a, l.addr[1] = (uint8_t)b, l.addr[2] = (uint8_t)c,
	l.addr[3] = (uint8_t)d;
	return l;
}

static struct apiary_literal lip6(const uint8_t a[16], int prefix)
{
	struct apiary_literal l = { .kind = APIARY_LIT_IPV6, .prefix = prefix };

	memcpy(l.addr, a, 16);
	return l;
}

static struct apiary_literal lmac(const uint8_t a[6])
{
	struct apiary_literal l = { .kind = APIARY_LIT_MAC, .prefix = -1 };

	memcpy(l.addr, a, 6);
	return l;
}

static struct apiary_literal lrange(uint64_t lo, uint64_t hi)
{
	return (struct apiary_literal){ .kind = APIARY_LIT_RANGE, .lo = lo, .hi = hi,
					.prefix = -1 };
}

static struct apiary_literal lset(size_t n, ...)
{
	struct apiary_literal l = { .kind = APIARY_LIT_SET, .prefix = -1 };
	va_list ap;

	l.items = tz(n * sizeof(*l.items));
	l.nitems = n;
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		l.items[i] = va_arg(ap, struct apiary_literal);
	va_end(ap);
	return l;
}

static struct apiary_pred *pnode(enum apiary_pred_kind k)
{
	struct apiary_pred *p = tz(sizeof(*p));

	p->kind = k;
	return p;
}

static struct apiary_pred *pcmp(enum apiary_field f, enum apiary_cmp_op op,
				struct apiary_literal v)
{
	struct apiary_pred *p = pnode(APIARY_P_CMP);

	p->field = f, p->op = op, p->value = v;
	return p;
}

static struct apiary_pred *pin(enum apiary_field f, struct apiary_literal v)
{
	struct apiary_pred *p = pnode(APIARY_P_IN);

	p->field = f, p->value = v;
	return p;
}

static struct apiary_pred *phas(enum apiary_field f, struct apiary_literal v)
{
	struct apiary_pred *p = pnode(APIARY_P_HAS);

	p->field = f, p->value = v;
	return p;
}

static struct apiary_pred *pbin(enum apiary_pred_kind k, struct apiary_pred *a,
				struct apiary_pred *b)
{
	struct apiary_pred *p = pnode(k);

	p->lhs = a, p->rhs = b;
	return p;
}

static struct apiary_pred *pnot(struct apiary_pred *a)
{
	struct apiary_pred *p = pnode(APIARY_P_NOT);

	p->lhs = a;
	return p;
}

/* ---- declarations ---- */

static struct apiary_classifier *classifier(const char *name, enum apiary_hook h, size_t n, ...)
{
	struct apiary_classifier *c = tz(sizeof(*c));
	va_list ap;

	c->name = nm(name);
	c->hook = h;
	c->keys = tz(n * sizeof(*c->keys));
	c->key_locs = tz(n * sizeof(*c->key_locs));
	c->nkeys = n;
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		c->keys[i] = va_arg(ap, enum apiary_field);
	va_end(ap);
	return c;
}

static struct apiary_type ty(int kind, unsigned size, const char *ref)
{
	struct apiary_type t = { .kind = kind, .size = size };

	if (ref)
		t.ref = nm(ref);
	return t;
}

static void add_state(struct apiary_spec *s, const char *name, enum apiary_map_kind k,
		      struct apiary_type key, struct apiary_type val, uint32_t max)
{
	struct apiary_state *st;

	s->states = realloc(s->states, (s->nstates + 1) * sizeof(*s->states));
	st = &s->states[s->nstates++];
	memset(st, 0, sizeof(*st));
	st->name = nm(name);
	st->kind = k;
	st->key = key;
	st->value = val;
	st->max_entries = max;
}

static struct apiary_code code(const char *dir, const char *path, const char *program,
			       int prebuilt)
{
	struct apiary_code c = { .prebuilt = prebuilt };

	c.path = nm(path);
	c.resolved = path[0] == '/' ? tstr("%s", path) : tstr("%s/%s", dir, path);
	if (program)
		c.program = nm(program);
	return c;
}

static struct apiary_enforcer *add_enf(struct apiary_spec *s, const char *name, const char *team,
				       uint32_t version, enum apiary_hook h, struct apiary_code c)
{
	struct apiary_enforcer *e;

	s->enforcers = realloc(s->enforcers, (s->nenforcers + 1) * sizeof(*s->enforcers));
	e = &s->enforcers[s->nenforcers++];
	memset(e, 0, sizeof(*e));
	e->name = nm(name);
	e->team = nm(team);
	e->version = version;
	e->hook = h;
	e->code = c;
	return e;
}

/* The realloc'd arrays are not in the arena: register them at the end. */
static struct apiary_spec *finish(struct apiary_spec *s)
{
	void *arrays[] = { s->states, s->enforcers, s->updates, s->orders, s->covers,
			   s->exclusives, s->flow_consistent };

	for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++) {
		if (!arrays[i])
			continue;
		cur->ptrs = realloc(cur->ptrs, (cur->n + 1) * sizeof(*cur->ptrs));
		cur->ptrs[cur->n++] = arrays[i];
	}
	cur = NULL;
	return s;
}

static const char edge_text[] =
	"bundle edge version 3\n"
	"classifier conn at xdp {\n"
	"    key ip.src, ip.dst, ip.proto, l4.sport, l4.dport\n"
	"    match ip.proto == tcp\n"
	"}\n"
	"state conn_bytes : hash(conn -> u64) max 65536\n"
	"state blocked : lru_hash(u32 -> bytes[8]) max 1024\n"
	"enforcer fw team security version 1 at xdp {\n"
	"    source \"fw.bpf.c\" program \"fw_main\"\n"
	"    effect drop when tcp.dport == 23 or ip.src in 10.66.0.0/16\n"
	"}\n"
	"enforcer counter team observability version 4 at xdp {\n"
	"    source \"counter.bpf.c\"\n"
	"}\n"
	"enforcer meter team netops version 1 at tc.egress {\n"
	"    source \"meter.bpf.c\" program \"meter_main\"\n"
	"    reads conn writes conn_bytes\n"
	"}\n"
	"update fw to version 2 { source \"fw2.bpf.c\" program \"fw_main\" }\n"
	"order fw before counter\n"
	"cover meter sees ip.proto == tcp\n"
	"exclusive conn_bytes by meter\n"
	"flow-consistent fw\n";

struct apiary_spec *tspec_edge(const char *dir)
{
	struct apiary_spec *s = begin("edge", 3, edge_text);
	struct apiary_enforcer *fw;

	s->classifier = classifier("conn", APIARY_HOOK_XDP, 5, APIARY_F_IP_SRC, APIARY_F_IP_DST,
				   APIARY_F_IP_PROTO, APIARY_F_L4_SPORT, APIARY_F_L4_DPORT);
	s->classifier->match = pcmp(APIARY_F_IP_PROTO, APIARY_OP_EQ, lint(6));
	add_state(s, "conn_bytes", APIARY_MAP_HASH, ty(APIARY_TY_FLOW, 40, "conn"),
		  ty(APIARY_TY_U64, 8, NULL), 65536);
	add_state(s, "blocked", APIARY_MAP_LRU_HASH, ty(APIARY_TY_U32, 4, NULL),
		  ty(APIARY_TY_BYTES, 8, NULL), 1024);

	fw = add_enf(s, "fw", "security", 1, APIARY_HOOK_XDP, code(dir, "fw.bpf.c", "fw_main", 0));
	fw->effects = tz(sizeof(*fw->effects));
	fw->neffects = 1;
	fw->effects[0].verdict = APIARY_V_DROP;
	fw->effects[0].when = pbin(APIARY_P_OR, pcmp(APIARY_F_TCP_DPORT, APIARY_OP_EQ, lint(23)),
				   pin(APIARY_F_IP_SRC, lip4(10, 66, 0, 0, 16)));
	add_enf(s, "counter", "observability", 4, APIARY_HOOK_XDP,
		code(dir, "counter.bpf.c", NULL, 0));
	add_enf(s, "meter", "netops", 1, APIARY_HOOK_TC_EGRESS,
		code(dir, "meter.bpf.c", "meter_main", 0));

	s->updates = calloc(1, sizeof(*s->updates));
	s->nupdates = 1;
	s->updates[0].enforcer = nm("fw");
	s->updates[0].version = 2;
	s->updates[0].code = code(dir, "fw2.bpf.c", "fw_main", 0);

	s->orders = calloc(1, sizeof(*s->orders));
	s->norders = 1;
	s->orders[0].before = nm("fw");
	s->orders[0].after = nm("counter");
	s->covers = calloc(1, sizeof(*s->covers));
	s->ncovers = 1;
	s->covers[0].enforcer = nm("meter");
	s->covers[0].sees = pcmp(APIARY_F_IP_PROTO, APIARY_OP_EQ, lint(6));
	s->exclusives = calloc(1, sizeof(*s->exclusives));
	s->nexclusives = 1;
	s->exclusives[0].state = nm("conn_bytes");
	s->exclusives[0].owner = nm("meter");
	s->flow_consistent = calloc(1, sizeof(*s->flow_consistent));
	s->nflow_consistent = 1;
	s->flow_consistent[0].enforcer = nm("fw");
	return finish(s);
}

static const char preds_text[] =
	"bundle preds version 1\n"
	"classifier flow6 at tc.ingress {\n"
	"    key ip6.src, ip6.dst, ip6.proto, tcp.sport, tcp.dport\n"
	"    match (tcp.flags has syn and not tcp.flags has ack) or udp.dport in 1024..65535\n"
	"        or ip6.src in 2001:db8::/32 or ip6.dst == 2001:db8::1\n"
	"        or eth.src == 02:00:00:00:00:01 or vlan.id in { 10, 20 }\n"
	"        or ip.dst in { 10.0.0.1, 192.168.0.0/16 } or icmp.type >= 8\n"
	"        or ip.ttl < 2 or not eth.type != ipv4 or ip.src != 10.0.0.255\n"
	"}\n"
	"state hits : array(u32 -> u64) max 16\n"
	"state seen : percpu_hash(flow6 -> bytes[16]) max 4096\n"
	"enforcer tagger team netops version 7 at tc.ingress {\n"
	"    source \"tagger.bpf.c\"\n"
	"    writes hits\n"
	"}\n";

struct apiary_spec *tspec_preds(const char *dir)
{
	static const uint8_t net6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	static const uint8_t host6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 1 };
	struct apiary_spec *s = begin("preds", 1, preds_text);
	struct apiary_pred *m;

	s->classifier = classifier("flow6", APIARY_HOOK_TC_INGRESS, 5, APIARY_F_IP6_SRC,
				   APIARY_F_IP6_DST, APIARY_F_IP6_PROTO, APIARY_F_TCP_SPORT,
				   APIARY_F_TCP_DPORT);
	m = pbin(APIARY_P_AND, phas(APIARY_F_TCP_FLAGS, lint(0x02)),
		 pnot(phas(APIARY_F_TCP_FLAGS, lint(0x10))));
	m = pbin(APIARY_P_OR, m, pin(APIARY_F_UDP_DPORT, lrange(1024, 65535)));
	m = pbin(APIARY_P_OR, m, pin(APIARY_F_IP6_SRC, lip6(net6, 32)));
	m = pbin(APIARY_P_OR, m, pcmp(APIARY_F_IP6_DST, APIARY_OP_EQ, lip6(host6, 128)));
	m = pbin(APIARY_P_OR, m, pcmp(APIARY_F_ETH_SRC, APIARY_OP_EQ, lmac(mac)));
	m = pbin(APIARY_P_OR, m, pin(APIARY_F_VLAN_ID, lset(2, lint(10), lint(20))));
	m = pbin(APIARY_P_OR, m,
		 pin(APIARY_F_IP_DST, lset(2, lip4(10, 0, 0, 1, 32), lip4(192, 168, 0, 0, 16))));
	m = pbin(APIARY_P_OR, m, pcmp(APIARY_F_ICMP_TYPE, APIARY_OP_GE, lint(8)));
	m = pbin(APIARY_P_OR, m, pcmp(APIARY_F_IP_TTL, APIARY_OP_LT, lint(2)));
	m = pbin(APIARY_P_OR, m, pnot(pcmp(APIARY_F_ETH_TYPE, APIARY_OP_NE, lint(0x0800))));
	m = pbin(APIARY_P_OR, m, pcmp(APIARY_F_IP_SRC, APIARY_OP_NE, lip4(10, 0, 0, 255, 32)));
	s->classifier->match = m;
	add_state(s, "hits", APIARY_MAP_ARRAY, ty(APIARY_TY_U32, 4, NULL),
		  ty(APIARY_TY_U64, 8, NULL), 16);
	add_state(s, "seen", APIARY_MAP_PERCPU_HASH, ty(APIARY_TY_FLOW, 40, "flow6"),
		  ty(APIARY_TY_BYTES, 16, NULL), 4096);
	add_enf(s, "tagger", "netops", 7, APIARY_HOOK_TC_INGRESS,
		code(dir, "tagger.bpf.c", NULL, 0));
	return finish(s);
}

static const char opaque_text[] =
	"bundle mixed version 2\n"
	"state conn_bytes : hash(u32 -> u64) max 1024\n"
	"enforcer lb team vendor version 9 at xdp {\n"
	"    object \"lb_prebuilt.bpf.o\"\n"
	"}\n"
	"enforcer fw team security version 1 at xdp {\n"
	"    source \"fw.bpf.c\"\n"
	"}\n";

struct apiary_spec *tspec_opaque(const char *dir, const char *prebuilt_obj)
{
	struct apiary_spec *s = begin("mixed", 2, opaque_text);

	/* meter.bpf.c style sources use conn_bytes: keep the name, other key. */
	add_state(s, "conn_bytes", APIARY_MAP_HASH, ty(APIARY_TY_U32, 4, NULL),
		  ty(APIARY_TY_U64, 8, NULL), 1024);
	add_enf(s, "lb", "vendor", 9, APIARY_HOOK_XDP, code(dir, prebuilt_obj, NULL, 1));
	add_enf(s, "fw", "security", 1, APIARY_HOOK_XDP, code(dir, "fw.bpf.c", NULL, 0));
	return finish(s);
}

struct apiary_spec *tspec_single(const char *dir, const char *source, const char *program,
				 int prebuilt)
{
	struct apiary_spec *s = begin("single", 1, "bundle single version 1\n");

	add_enf(s, "bad", "qa", 1, APIARY_HOOK_XDP, code(dir, source, program, prebuilt));
	return finish(s);
}
