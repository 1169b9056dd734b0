// SPDX-License-Identifier: MIT
/*
 * Stand-in for what compiler/ uses of spec/ (diagnostics, hook names,
 * predicate printing) while that module has not landed. Linked into the
 * compiler tests only when spec_lib is not defined (see meson.build).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "apiary/diag.h"
#include "apiary/spec.h"

void apiary_diags_init(struct apiary_diags *d)
{
	memset(d, 0, sizeof(*d));
}

void apiary_diags_free(struct apiary_diags *d)
{
	for (size_t i = 0; i < d->count; i++) {
		free(d->items[i].msg);
		free(d->items[i].detail);
	}
	free(d->items);
	memset(d, 0, sizeof(*d));
}

static void add(struct apiary_diags *d, enum apiary_severity sev, const struct apiary_loc *loc,
		const char *fmt, va_list ap)
{
	struct apiary_diag *it;

	if (d->count == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 8;
		struct apiary_diag *n = realloc(d->items, ncap * sizeof(*n));

		if (!n)
			return;
		d->items = n;
		d->cap = ncap;
	}
	it = &d->items[d->count++];
	memset(it, 0, sizeof(*it));
	it->severity = sev;
	if (loc)
		it->loc = *loc;
	if (vasprintf(&it->msg, fmt, ap) < 0)
		it->msg = NULL;
	if (sev == APIARY_ERROR)
		d->errors++;
}

int apiary_error(struct apiary_diags *d, const struct apiary_loc *loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add(d, APIARY_ERROR, loc, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

void apiary_warn(struct apiary_diags *d, const struct apiary_loc *loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add(d, APIARY_WARNING, loc, fmt, ap);
	va_end(ap);
}

void apiary_note(struct apiary_diags *d, const struct apiary_loc *loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add(d, APIARY_NOTE, loc, fmt, ap);
	va_end(ap);
}

void apiary_diag_set_detail(struct apiary_diags *d, const char *detail)
{
	if (!d->count)
		return;
	free(d->items[d->count - 1].detail);
	d->items[d->count - 1].detail = strdup(detail);
}

void apiary_diags_print(const struct apiary_diags *d, FILE *out)
{
	for (size_t i = 0; i < d->count; i++) {
		const struct apiary_diag *it = &d->items[i];

		if (it->loc.file)
			fprintf(out, "%s:%d:%d: ", it->loc.file, it->loc.line, it->loc.col);
		fprintf(out, "%s: %s\n", it->severity == APIARY_ERROR ? "error" : "note",
			it->msg ? it->msg : "");
		if (it->detail)
			fprintf(out, "%s\n", it->detail);
	}
}

const char *apiary_hook_name(enum apiary_hook h)
{
	switch (h) {
	case APIARY_HOOK_XDP: return "xdp";
	case APIARY_HOOK_TC_INGRESS: return "tc.ingress";
	case APIARY_HOOK_TC_EGRESS: return "tc.egress";
	default: return "none";
	}
}

static const char *const field_names[APIARY_F__COUNT] = {
	"eth.type", "eth.src", "eth.dst", "vlan.id", "ip.src", "ip.dst", "ip.proto",
	"ip.ttl", "ip6.src", "ip6.dst", "ip6.proto", "ip6.ttl", "tcp.sport", "tcp.dport",
	"tcp.flags", "udp.sport", "udp.dport", "icmp.type", "l4.sport", "l4.dport",
};

struct out {
	char *buf;
	size_t size, len;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->len < o->size ? o->buf + o->len : NULL,
		      o->len < o->size ? o->size - o->len : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

static void put_lit(struct out *o, const struct apiary_literal *l)
{
	switch (l->kind) {
	case APIARY_LIT_INT:
		put(o, "%llu", (unsigned long long)l->u);
		break;
	case APIARY_LIT_RANGE:
		put(o, "%llu..%llu", (unsigned long long)l->lo, (unsigned long long)l->hi);
		break;
	case APIARY_LIT_IPV4:
		put(o, "%u.%u.%u.%u", l->addr[0], l->addr[1], l->addr[2], l->addr[3]);
		if (l->prefix >= 0 && l->prefix < 32)
			put(o, "/%d", l->prefix);
		break;
	case APIARY_LIT_IPV6:
		for (int i = 0; i < 16; i += 2)
			put(o, "%s%x", i ? ":" : "", (l->addr[i] << 8) | l->addr[i + 1]);
		if (l->prefix >= 0 && l->prefix < 128)
			put(o, "/%d", l->prefix);
		break;
	case APIARY_LIT_MAC:
		put(o, "%02x:%02x:%02x:%02x:%02x:%02x", l->addr[0], l->addr[1], l->addr[2],
		    l->addr[3], l->addr[4], l->addr[5]);
		break;
	case APIARY_LIT_SET:
		put(o, "{ ");
		for (size_t i = 0; i < l->nitems; i++) {
			if (i)
				put(o, ", ");
			put_lit(o, &l->items[i]);
		}
		put(o, " }");
		break;
	}
}

static void put_pred(struct out *o, const struct apiary_pred *p, int parens)
{
	static const char *const ops[] = { "==", "!=", "<", "<=", ">", ">=" };

	switch (p->kind) {
	case APIARY_P_AND:
	case APIARY_P_OR:
		if (parens)
			put(o, "(");
		put_pred(o, p->lhs, 1);
		put(o, p->kind == APIARY_P_AND ? " and " : " or ");
		put_pred(o, p->rhs, 1);
		if (parens)
			put(o, ")");
		break;
	case APIARY_P_NOT:
		put(o, "not ");
		put_pred(o, p->lhs, 1);
		break;
	case APIARY_P_CMP:
		put(o, "%s %s ", field_names[p->field], ops[p->op]);
		put_lit(o, &p->value);
		break;
	case APIARY_P_IN:
		put(o, "%s in ", field_names[p->field]);
		put_lit(o, &p->value);
		break;
	case APIARY_P_HAS:
		put(o, "%s has ", field_names[p->field]);
		put_lit(o, &p->value);
		break;
	}
}

int apiary_pred_format(const struct apiary_pred *p, char *buf, size_t size)
{
	struct out o = { buf, size, 0 };

	if (size)
		buf[0] = '\0';
	put_pred(&o, p, 0);
	return (int)o.len;
}
