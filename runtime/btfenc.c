// SPDX-License-Identifier: MIT
/*
 * Spec values to map bytes, typed through BTF: `config` keys/values and
 * `global` variables. Struct members are found by name, integers written in
 * the member's size (host order, big endian for __be16/__be32/__be64
 * typedefs), addresses copied as they sit in the packet; raw hex must match
 * the size exactly. Every error names the spec location it comes from.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_internal.h"

/* Follow typedefs and qualifiers to the concrete type; note whether a
 * big-endian typedef was on the way. */
static uint32_t resolve(const struct btf *btf, uint32_t id, bool *be)
{
	const struct btf_type *t;
	int guard = 32;

	while (guard-- > 0 && (t = btf__type_by_id(btf, id))) {
		switch (btf_kind(t)) {
		case BTF_KIND_TYPEDEF: {
			const char *n = btf__name_by_offset(btf, t->name_off);

			if (n && (!strcmp(n, "__be16") || !strcmp(n, "__be32") ||
				  !strcmp(n, "__be64")))
				*be = true;
		}
			/* fallthrough */
		case BTF_KIND_VOLATILE:
		case BTF_KIND_CONST:
		case BTF_KIND_RESTRICT:
		case BTF_KIND_TYPE_TAG:
			id = t->type;
			continue;
		default:
			return id;
		}
	}
	return id;
}

/* Size in bytes of a BTF type, 0 if it has none. */
static size_t type_size(const struct btf *btf, uint32_t id)
{
	long long s = btf__resolve_size(btf, id);

	return s > 0 ? (size_t)s : 0;
}

/* Does the integer u fit in size bytes? */
static bool fits(uint64_t u, size_t size)
{
	return size >= 8 || (u >> (size * 8)) == 0;
}

/* Write u in size bytes, host order or big endian. */
static void put_int(void *buf, size_t size, uint64_t u, bool be)
{
	uint8_t *b = buf;
	size_t i;

	if (be) {
		for (i = 0; i < size; i++)
			b[size - 1 - i] = (uint8_t)(u >> (8 * i));
		return;
	}
	switch (size) {
	case 1: { uint8_t v = (uint8_t)u; memcpy(b, &v, 1); break; }
	case 2: { uint16_t v = (uint16_t)u; memcpy(b, &v, 2); break; }
	case 4: { uint32_t v = (uint32_t)u; memcpy(b, &v, 4); break; }
	case 8: memcpy(b, &u, 8); break;
	default:
		/* Odd sizes (enums of 16 bytes do not exist): little end first. */
		for (i = 0; i < size; i++)
			b[i] = i < 8 ? (uint8_t)(u >> (8 * i)) : 0;
	}
}

static const char *lit_kind_name(enum apiary_lit_kind k)
{
	switch (k) {
	case APIARY_LIT_INT: return "an integer";
	case APIARY_LIT_IPV4: return "an IPv4 address";
	case APIARY_LIT_IPV6: return "an IPv6 address";
	case APIARY_LIT_MAC: return "a MAC address";
	case APIARY_LIT_RANGE: return "a range";
	case APIARY_LIT_SET: return "a set";
	}
	return "a literal";
}

/* Bytes of an address literal, 0 for other kinds. */
static size_t addr_len(const struct apiary_literal *lit)
{
	switch (lit->kind) {
	case APIARY_LIT_IPV4: return 4;
	case APIARY_LIT_IPV6: return 16;
	case APIARY_LIT_MAC: return 6;
	default: return 0;
	}
}

/* One literal into one typed slot. */
int rt_btf_encode_lit(const struct btf *btf, uint32_t type_id, const struct apiary_literal *lit,
		      const char *name, void *buf, size_t size, struct apiary_diags *diags)
{
	const struct btf_type *t;
	bool be = false;
	uint32_t id = resolve(btf, type_id, &be);
	size_t alen = addr_len(lit);

	t = btf__type_by_id(btf, id);
	if (!t)
		return apiary_error(diags, &lit->loc, "'%s': no BTF type %u", name, type_id);
	if (lit->kind == APIARY_LIT_RANGE || lit->kind == APIARY_LIT_SET)
		return apiary_error(diags, &lit->loc, "'%s': %s cannot be stored, give one value",
				    name, lit_kind_name(lit->kind));
	if (alen && (lit->kind != APIARY_LIT_MAC) && lit->prefix && lit->prefix != (int)alen * 8)
		return apiary_error(diags, &lit->loc,
				    "'%s': a prefix (/%d) cannot be stored, give one address", name,
				    lit->prefix);

	switch (btf_kind(t)) {
	case BTF_KIND_INT:
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		if (alen) {
			if (alen != size)
				return apiary_error(diags, &lit->loc,
						    "'%s' is %zu bytes, %s needs %zu", name, size,
						    lit_kind_name(lit->kind), alen);
			memcpy(buf, lit->addr, alen); /* network order, as in the packet */
			return 0;
		}
		if (size > 8)
			return apiary_error(diags, &lit->loc,
					    "'%s' is a %zu-byte integer; give it as hex bytes", name,
					    size);
		if (!fits(lit->u, size))
			return apiary_error(diags, &lit->loc,
					    "value %llu does not fit in '%s' (%zu bytes)",
					    (unsigned long long)lit->u, name, size);
		put_int(buf, size, lit->u, be);
		return 0;
	case BTF_KIND_ARRAY:
		if (!alen)
			return apiary_error(diags, &lit->loc,
					    "'%s' is a %zu-byte array: give an address or hex bytes",
					    name, size);
		if (alen != size)
			return apiary_error(diags, &lit->loc, "'%s' is %zu bytes, %s needs %zu", name,
					    size, lit_kind_name(lit->kind), alen);
		memcpy(buf, lit->addr, alen);
		return 0;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		return apiary_error(diags, &lit->loc,
				    "'%s' is a struct: give its members as { name value, ... }", name);
	default:
		return apiary_error(diags, &lit->loc, "'%s' has a type that cannot be configured",
				    name);
	}
}

/* Find member name in struct/union id (also inside anonymous members);
 * its byte offset from the struct start and its type. */
static int find_member(const struct btf *btf, uint32_t id, const char *name, uint32_t *off,
		       uint32_t *mtype, bool *bitfield)
{
	bool be = false;
	const struct btf_type *t = btf__type_by_id(btf, resolve(btf, id, &be));
	const struct btf_member *m;
	int i, vlen;

	if (!t || (!btf_is_struct(t) && !btf_is_union(t)))
		return -ENOENT;
	m = btf_members(t);
	vlen = btf_vlen(t);
	for (i = 0; i < vlen; i++, m++) {
		const char *mn = btf__name_by_offset(btf, m->name_off);
		uint32_t bits = btf_member_bit_offset(t, i);

		if (mn && *mn && !strcmp(mn, name)) {
			*off = bits / 8;
			*mtype = m->type;
			*bitfield = btf_member_bitfield_size(t, i) != 0 || bits % 8;
			return 0;
		}
		if (!mn || !*mn) {
			uint32_t sub_off;

			if (!find_member(btf, m->type, name, &sub_off, mtype, bitfield)) {
				*off = bits / 8 + sub_off;
				return 0;
			}
		}
	}
	return -ENOENT;
}

/* A config key or value: raw bytes, or struct members by name. */
int rt_btf_encode_cfg(const struct btf *btf, uint32_t type_id, const struct apiary_cfg_value *v,
		      const char *map, const char *what, void *buf, size_t size,
		      struct apiary_diags *diags)
{
	const struct btf_type *t;
	bool be = false;
	size_t i, tsize;
	int err;

	memset(buf, 0, size);
	if (v->raw) {
		if (v->nbytes != size)
			return apiary_error(diags, &v->loc,
					    "config %s: the %s is %zu bytes but the hex value gives %zu",
					    map, what, size, v->nbytes);
		memcpy(buf, v->bytes, size);
		return 0;
	}
	if (!btf || !type_id)
		return apiary_error(diags, &v->loc,
				    "config %s: the map's %s has no BTF type; give it as hex bytes (%zu bytes)",
				    map, what, size);
	tsize = type_size(btf, type_id);
	if (tsize != size)
		return apiary_error(diags, &v->loc,
				    "config %s: BTF says the %s is %zu bytes, the map says %zu", map,
				    what, tsize, size);
	t = btf__type_by_id(btf, resolve(btf, type_id, &be));
	if (!t)
		return apiary_error(diags, &v->loc, "config %s: bad BTF type for the %s", map, what);
	if (!btf_is_struct(t) && !btf_is_union(t)) {
		/* A scalar key/value: one `{ name value }` pair, name free. */
		if (v->nfields != 1)
			return apiary_error(diags, &v->loc,
					    "config %s: the %s is not a struct; give one value or hex bytes",
					    map, what);
		return rt_btf_encode_lit(btf, type_id, &v->fields[0].value, v->fields[0].name.s,
					 buf, size, diags);
	}
	for (i = 0; i < v->nfields; i++) {
		const struct apiary_cfg_field *f = &v->fields[i];
		uint32_t off = 0, mtype = 0;
		bool bitfield = false;
		size_t msize;

		if (find_member(btf, type_id, f->name.s, &off, &mtype, &bitfield)) {
			const char *sn = btf__name_by_offset(btf, t->name_off);

			apiary_error(diags, &f->name.loc, "config %s: %s type 'struct %s' has no member '%s'",
				     map, what, sn && *sn ? sn : "(anonymous)", f->name.s);
			return -EINVAL;
		}
		if (bitfield)
			return apiary_error(diags, &f->name.loc,
					    "config %s: member '%s' is a bit field; give the %s as hex bytes",
					    map, f->name.s, what);
		msize = type_size(btf, mtype);
		if (!msize || off + msize > size)
			return apiary_error(diags, &f->name.loc, "config %s: member '%s' has no size",
					    map, f->name.s);
		err = rt_btf_encode_lit(btf, mtype, &f->value, f->name.s, (uint8_t *)buf + off,
					msize, diags);
		if (err)
			return err;
	}
	return 0;
}

/* Look a variable up in a DATASEC by name. */
int rt_btf_find_var(const struct btf *btf, uint32_t datasec_id, const char *name,
		    uint32_t *offset, uint32_t *type_id, uint32_t *size)
{
	const struct btf_type *t = btf__type_by_id(btf, datasec_id);
	const struct btf_var_secinfo *vs;
	int i;

	if (!t || !btf_is_datasec(t))
		return -ENOENT;
	vs = btf_var_secinfos(t);
	for (i = 0; i < btf_vlen(t); i++, vs++) {
		const struct btf_type *var = btf__type_by_id(btf, vs->type);
		const char *vn;

		if (!var || !btf_is_var(var))
			continue;
		vn = btf__name_by_offset(btf, var->name_off);
		if (vn && !strcmp(vn, name)) {
			*offset = vs->offset;
			*type_id = var->type;
			*size = vs->size;
			return 0;
		}
	}
	return -ENOENT;
}

/* ---- interned strings for diagnostics --------------------------------- */

struct interned {
	struct interned *next;
	char *path;
	char *text;
	bool read;
};

static pthread_mutex_t intern_lock = PTHREAD_MUTEX_INITIALIZER;
static struct interned *interned_list;

/* The entry for path, created if new. Caller holds intern_lock. */
static struct interned *intern_get(const char *path)
{
	struct interned *e;

	for (e = interned_list; e; e = e->next)
		if (!strcmp(e->path, path))
			return e;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->path = strdup(path);
	if (!e->path) {
		free(e);
		return NULL;
	}
	e->next = interned_list;
	interned_list = e;
	return e;
}

/* A copy of path that lives as long as the process. */
const char *rt_intern_path(const char *path)
{
	struct interned *e;

	if (!path)
		return NULL;
	pthread_mutex_lock(&intern_lock);
	e = intern_get(path);
	pthread_mutex_unlock(&intern_lock);
	return e ? e->path : NULL;
}

/* The text of file path (read once), NULL if unreadable. */
const char *rt_intern_text(const char *path)
{
	struct interned *e;
	const char *text = NULL;

	if (!path)
		return NULL;
	pthread_mutex_lock(&intern_lock);
	e = intern_get(path);
	if (e && !e->read) {
		FILE *f = fopen(path, "rb");

		e->read = true;
		if (f) {
			size_t cap = 4096, len = 0, got;
			char *buf = malloc(cap);

			while (buf && (got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
				len += got;
				if (cap - len - 1 == 0) {
					char *nb = realloc(buf, cap * 2);

					if (!nb) {
						free(buf);
						buf = NULL;
						break;
					}
					buf = nb;
					cap *= 2;
				}
			}
			if (buf)
				buf[len] = '\0';
			e->text = buf;
			fclose(f);
		}
	}
	if (e)
		text = e->text;
	pthread_mutex_unlock(&intern_lock);
	return text;
}
