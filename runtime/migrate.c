// SPDX-License-Identifier: MIT
/*
 * State migration at an update: `migrate state X from A to B { f = old.g,
 * h = 1 }` converts every entry of the old version's private map X into
 * the new version's map X. Both layouts come from BTF of the two objects,
 * so the spec names fields, never offsets. Integers are copied across
 * widths (a value that does not fit is reported, never truncated silently);
 * other members copy when the sizes agree. New fields no line assigns are
 * listed: an entry with them is "left unconverted".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>

#include "apiary/runtime.h"
#include "rt_internal.h"

/* Skip typedefs and qualifiers. */
static uint32_t skip_mods(const struct btf *btf, uint32_t id)
{
	const struct btf_type *t;

	for (int guard = 32; guard-- > 0 && (t = btf__type_by_id(btf, id));) {
		if (!btf_is_typedef(t) && !btf_is_mod(t))
			break;
		id = t->type;
	}
	return id;
}

/* A member of a struct layout: byte offset, size, whether an integer. */
struct mfield {
	const char *name;
	uint32_t off, size, type;
	bool is_int;
};

/* Top-level members of the struct value type of map m (no bitfields). */
static int layout(const struct rt_map *m, struct mfield *out, size_t max, size_t *n)
{
	const struct btf_type *t;
	const struct btf_member *mb;

	*n = 0;
	if (!m->btf || !m->value_type)
		return -ENOENT;
	t = btf__type_by_id(m->btf, skip_mods(m->btf, m->value_type));
	if (!t || !btf_is_struct(t))
		return -EINVAL;
	mb = btf_members(t);
	for (int i = 0; i < btf_vlen(t) && *n < max; i++, mb++) {
		uint32_t bits = btf_member_bit_offset(t, i);
		const struct btf_type *mt = btf__type_by_id(m->btf, skip_mods(m->btf, mb->type));
		long long sz = btf__resolve_size(m->btf, mb->type);

		if (btf_member_bitfield_size(t, i) || bits % 8 || sz <= 0)
			return -EINVAL;
		out[*n].name = btf__name_by_offset(m->btf, mb->name_off);
		out[*n].off = bits / 8;
		out[*n].size = (uint32_t)sz;
		out[*n].type = mb->type;
		out[*n].is_int = mt && (btf_is_int(mt) || btf_is_any_enum(mt));
		(*n)++;
	}
	return 0;
}

static const struct mfield *field(const struct mfield *f, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (f[i].name && !strcmp(f[i].name, name))
			return &f[i];
	return NULL;
}

/* Map index by name, or -1. */
static long map_index(const struct apiary_rt *rt, const char *name)
{
	for (size_t i = 0; i < rt->nmaps; i++)
		if (!strcmp(rt->maps[i].name, name))
			return (long)i;
	return -1;
}

static uint64_t get_uint(const uint8_t *p, uint32_t size)
{
	uint64_t v = 0;

	memcpy(&v, p, size > 8 ? 8 : size); /* little endian host */
	return v;
}

/* Build the new value of one entry; problem says what did not survive. */
static void convert(const struct apiary_migrate *m, const struct mfield *of, size_t on,
		    const struct mfield *nf, size_t nn, const uint8_t *old, uint8_t *out,
		    const uint8_t *lits, char *problem, size_t psize)
{
	problem[0] = '\0';
	for (size_t a = 0; a < m->nassigns; a++) {
		const struct apiary_migrate_assign *as = &m->assigns[a];
		const struct mfield *dst = field(nf, nn, as->field.s), *src;

		if (!as->from.s) {
			memcpy(out + dst->off, lits + dst->off, dst->size);
			continue;
		}
		src = field(of, on, as->from.s);
		if (src->is_int && dst->is_int) {
			uint64_t v = get_uint(old + src->off, src->size);

			if (dst->size < 8 && (v >> (dst->size * 8)) && !problem[0])
				snprintf(problem, psize, "%s = old.%s: %llu does not fit in %u bytes",
					 as->field.s, as->from.s, (unsigned long long)v, dst->size);
			memcpy(out + dst->off, &v, dst->size > 8 ? 8 : dst->size);
		} else {
			memcpy(out + dst->off, old + src->off, dst->size);
		}
	}
}

/* Check the migration against both layouts; fill the literal bytes. */
static int check_layouts(const struct apiary_migrate *m, const struct rt_map *nm,
			 const struct mfield *of, size_t on, const struct mfield *nf, size_t nn,
			 uint8_t *lits, struct apiary_migrate_result *res,
			 struct apiary_diags *diags)
{
	size_t pos = 0;
	int err;

	for (size_t a = 0; a < m->nassigns; a++) {
		const struct apiary_migrate_assign *as = &m->assigns[a];
		const struct mfield *dst = field(nf, nn, as->field.s), *src;

		if (!dst)
			return apiary_error(diags, &as->field.loc,
					    "migration of '%s': the new layout (version %u) has no field '%s'",
					    m->state.s, m->to, as->field.s);
		if (!as->from.s) {
			err = rt_btf_encode_lit(nm->btf, dst->type, &as->value, as->field.s,
						lits + dst->off, dst->size, diags);
			if (err)
				return err;
			continue;
		}
		src = field(of, on, as->from.s);
		if (!src)
			return apiary_error(diags, &as->from.loc,
					    "migration of '%s': the old layout (version %u) has no field '%s'",
					    m->state.s, m->from, as->from.s);
		if (!(src->is_int && dst->is_int) && src->size != dst->size)
			return apiary_error(diags, &as->loc,
					    "migration of '%s': '%s' (%u bytes) cannot take old.%s (%u bytes); only integers change width",
					    m->state.s, as->field.s, dst->size, as->from.s, src->size);
	}
	res->unassigned[0] = '\0';
	for (size_t i = 0; i < nn; i++) {
		bool set = false;

		for (size_t a = 0; a < m->nassigns && !set; a++)
			set = !strcmp(m->assigns[a].field.s, nf[i].name);
		if (!set)
			pos += (size_t)snprintf(res->unassigned + pos,
						pos < sizeof(res->unassigned) ? sizeof(res->unassigned) - pos : 0,
						"%s%s", pos ? ", " : "", nf[i].name);
	}
	return 0;
}

int apiary_rt_migrate(struct apiary_rt *rt, const struct apiary_migrate *m,
		      struct apiary_migrate_result *res, struct apiary_diags *diags)
{
	struct mfield of[64], nf[64];
	size_t on = 0, nn = 0;
	char oname[512], nname[512];
	const struct rt_map *om, *nm;
	long oi, ni;
	int e, err = 0;
	uint8_t *key = NULL, *next = NULL, *lits = NULL;
	bool first = true;

	memset(res, 0, sizeof(*res));
	if (!rt || !m || !m->enforcer.s || !m->state.s)
		return -EINVAL;
	e = apiary_spec_enforcer_index(rt->spec, m->enforcer.s);
	if (e < 0)
		return apiary_error(diags, &m->loc, "migration of '%s': no enforcer '%s'",
				    m->state.s, m->enforcer.s);
	if (apiary_spec_state(rt->spec, m->state.s))
		return apiary_error(diags, &m->state.loc,
				    "migration of '%s': it is declared state, one map shared by every version; a migration converts a map each version's object defines itself",
				    m->state.s);
	snprintf(oname, sizeof(oname), "%s:%s", m->enforcer.s, m->state.s);
	snprintf(nname, sizeof(nname), "%s@v%u:%s", m->enforcer.s, m->to, m->state.s);
	oi = map_index(rt, oname);
	ni = map_index(rt, nname);
	if (oi < 0 || ni < 0)
		return apiary_error(diags, &m->state.loc,
				    "migration of '%s': version %u of %s %s no map '%s'",
				    m->state.s, oi < 0 ? m->from : m->to, m->enforcer.s,
				    "defines", m->state.s);
	om = &rt->maps[oi];
	nm = &rt->maps[ni];
	res->old_map = (size_t)oi;
	res->new_map = (size_t)ni;
	res->key_size = om->key_size;
	res->old_size = om->value_size;
	res->new_size = nm->value_size;
	if (om->percpu || nm->percpu || om->key_size != nm->key_size)
		return apiary_error(diags, &m->loc,
				    "migration of '%s': %s", m->state.s,
				    om->key_size != nm->key_size ?
					    "the key layout changed between the versions; a migration converts values, keys stay"
					    : "per-CPU maps cannot be migrated");
	if (layout(om, of, 64, &on) || layout(nm, nf, 64, &nn))
		return apiary_error(diags, &m->loc,
				    "migration of '%s': both versions need a struct value type in BTF without bitfields (compile with -g)",
				    m->state.s);
	lits = calloc(1, nm->value_size);
	key = calloc(1, om->key_size);
	next = calloc(1, om->key_size);
	if (!lits || !key || !next) {
		err = -ENOMEM;
		goto out;
	}
	err = check_layouts(m, nm, of, on, nf, nn, lits, res, diags);
	if (err)
		goto out;
	for (;;) {
		struct apiary_migrate_entry *ent, *grown;

		if (bpf_map_get_next_key(om->fd, first ? NULL : key, next)) {
			if (errno != ENOENT)
				err = -errno;
			break;
		}
		first = false;
		memcpy(key, next, om->key_size);
		grown = realloc(res->entries, (res->n + 1) * sizeof(*grown));
		if (!grown) {
			err = -ENOMEM;
			break;
		}
		res->entries = grown;
		ent = &res->entries[res->n++];
		memset(ent, 0, sizeof(*ent));
		ent->key = malloc(om->key_size);
		ent->old_value = malloc(om->value_size);
		ent->new_value = calloc(1, nm->value_size);
		if (!ent->key || !ent->old_value || !ent->new_value) {
			err = -ENOMEM;
			break;
		}
		memcpy(ent->key, key, om->key_size);
		if (bpf_map_lookup_elem(om->fd, key, ent->old_value)) {
			res->n--; /* deleted meanwhile */
			free(ent->key);
			free(ent->old_value);
			free(ent->new_value);
			continue;
		}
		convert(m, of, on, nf, nn, ent->old_value, ent->new_value, lits, ent->problem,
			sizeof(ent->problem));
		if (bpf_map_update_elem(nm->fd, key, ent->new_value, BPF_ANY)) {
			ent->err = -errno;
			res->lost++;
		}
		if (ent->problem[0])
			res->unfaithful++;
	}
out:
	free(lits);
	free(key);
	free(next);
	return err;
}

void apiary_migrate_result_free(struct apiary_migrate_result *res)
{
	if (!res)
		return;
	for (size_t i = 0; i < res->n; i++) {
		free(res->entries[i].key);
		free(res->entries[i].old_value);
		free(res->entries[i].new_value);
	}
	free(res->entries);
	memset(res, 0, sizeof(*res));
}

int apiary_rt_map_lookup(const struct apiary_rt *rt, size_t i, const void *key, void *value)
{
	if (!rt || i >= rt->nmaps)
		return -EINVAL;
	return bpf_map_lookup_elem(rt->maps[i].fd, key, value) ? -errno : 0;
}
