// SPDX-License-Identifier: MIT
/*
 * A violation as JSON: the one encoding the store's columns, the HTML report
 * and SARIF's result properties share, so a violation reads the same
 * everywhere. Bytes are lowercase hex; absent map values are null.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "apiary/store.h"
#include "internal.h"

/* Add key -> string (null for a NULL string). */
static void put_str(struct json_object *o, const char *key, const char *s)
{
	json_object_object_add(o, key, s ? json_object_new_string(s) : NULL);
}

/* Add key -> hex of bytes, or null when p is NULL. */
static int put_hex(struct json_object *o, const char *key, const uint8_t *p, size_t n)
{
	char *h;

	if (!p) {
		json_object_object_add(o, key, NULL);
		return 0;
	}
	h = apiary_hex(p, n);
	if (!h)
		return -ENOMEM;
	json_object_object_add(o, key, json_object_new_string(h));
	free(h);
	return 0;
}

struct json_object *apiary_parties_to_json(const struct apiary_violation *v)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; a && i < v->nparties; i++) {
		const struct apiary_party *p = &v->parties[i];
		struct json_object *o = json_object_new_object();

		put_str(o, "enforcer", p->enforcer);
		put_str(o, "team", p->team);
		json_object_object_add(o, "version", json_object_new_int64(p->version));
		json_object_object_add(o, "spec_line", json_object_new_int(p->spec_line));
		json_object_object_add(o, "spec_col", json_object_new_int(p->spec_col));
		json_object_array_add(a, o);
	}
	return a;
}

/* One outcome: verdict, output bytes, trace and flow. */
static struct json_object *outcome_to_json(const struct apiary_outcome *oc)
{
	struct json_object *o = json_object_new_object(), *tr = json_object_new_array();
	uint32_t len = oc->len > sizeof(oc->data) ? sizeof(oc->data) : oc->len;
	uint32_t nt = oc->ntrace > APIARY_MAX_TRACE ? APIARY_MAX_TRACE : oc->ntrace;

	json_object_object_add(o, "hook", json_object_new_int((int32_t)oc->hook));
	json_object_object_add(o, "verdict", json_object_new_int(oc->verdict));
	json_object_object_add(o, "len", json_object_new_int64(len));
	put_hex(o, "data", oc->data, len);
	for (uint32_t i = 0; i < nt; i++) {
		struct json_object *t = json_object_new_object();

		json_object_object_add(t, "enforcer", json_object_new_int(oc->trace[i].enforcer));
		json_object_object_add(t, "vslot", json_object_new_int(oc->trace[i].vslot));
		json_object_object_add(t, "hook", json_object_new_int(oc->trace[i].hook));
		json_object_object_add(t, "verdict", json_object_new_int(oc->trace[i].verdict));
		json_object_array_add(tr, t);
	}
	json_object_object_add(o, "trace", tr);
	json_object_object_add(o, "flow_id", json_object_new_uint64(oc->flow_id));
	json_object_object_add(o, "direction", json_object_new_int64(oc->direction));
	json_object_object_add(o, "matched", json_object_new_int64(oc->matched));
	return o;
}

struct json_object *apiary_runs_to_json(const struct apiary_violation *v)
{
	struct json_object *a = json_object_new_array();
	size_t nruns = v->nruns > 2 ? 2 : v->nruns;

	for (size_t r = 0; r < nruns; r++) {
		const struct apiary_vrun *run = &v->runs[r];
		struct json_object *o = json_object_new_object();
		struct json_object *ord = json_object_new_array();
		struct json_object *ocs = json_object_new_array();
		struct json_object *chs = json_object_new_array();
		size_t norder = run->norder > APIARY_MAX_CHAIN ? APIARY_MAX_CHAIN : run->norder;

		put_str(o, "label", run->label);
		for (size_t i = 0; i < norder; i++)
			json_object_array_add(ord, json_object_new_int(run->order[i]));
		json_object_object_add(o, "order", ord);
		for (size_t i = 0; i < run->noutcomes; i++)
			json_object_array_add(ocs, outcome_to_json(&run->outcomes[i]));
		json_object_object_add(o, "outcomes", ocs);
		for (size_t i = 0; i < run->nchanges; i++) {
			const struct apiary_vchange *c = &run->changes[i];
			struct json_object *co = json_object_new_object();

			put_str(co, "map", c->map);
			json_object_object_add(co, "key_size", json_object_new_int64(c->key_size));
			json_object_object_add(co, "value_size", json_object_new_int64(c->value_size));
			put_hex(co, "key", c->key, c->key_size);
			put_hex(co, "before", c->before, c->value_size);
			put_hex(co, "after", c->after, c->value_size);
			json_object_array_add(chs, co);
		}
		json_object_object_add(o, "changes", chs);
		json_object_array_add(a, o);
	}
	return a;
}

/* The input: its replay hex and every event decoded to hook + frame hex. */
static struct json_object *input_to_json(const struct apiary_input *in)
{
	struct json_object *o = json_object_new_object(), *evs = json_object_new_array();
	char *hex = apiary_input_to_hex(in);
	size_t nev = in->nevents > APIARY_INPUT_MAX_EVENTS ? APIARY_INPUT_MAX_EVENTS : in->nevents;

	put_str(o, "hex", hex);
	free(hex);
	json_object_object_add(o, "ordering", json_object_new_int(in->ordering));
	json_object_object_add(o, "update_at", json_object_new_int(in->update_at));
	for (size_t i = 0; i < nev; i++) {
		const struct apiary_event *ev = &in->events[i];
		struct json_object *e = json_object_new_object();
		size_t len = ev->len > APIARY_INPUT_MAX_FRAME ? APIARY_INPUT_MAX_FRAME : ev->len;

		put_str(e, "hook", apiary_hook_name(ev->hook));
		json_object_object_add(e, "hook_id", json_object_new_int(ev->hook));
		put_hex(e, "data", ev->data, len);
		json_object_array_add(evs, e);
	}
	json_object_object_add(o, "events", evs);
	return o;
}

struct json_object *apiary_violation_to_json(const struct apiary_violation *v)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	put_str(o, "invariant", apiary_invariant_name(v->invariant));
	json_object_object_add(o, "invariant_id", json_object_new_int(v->invariant));
	put_str(o, "severity", v->severity == APIARY_VS_INFO ? "info" : "error");
	put_str(o, "bundle", v->bundle);
	put_str(o, "bundle_hash", v->bundle_hash);
	put_str(o, "summary", v->summary);
	put_str(o, "detail", v->detail);
	json_object_object_add(o, "parties", apiary_parties_to_json(v));
	{
		struct json_object *names = json_object_new_array();

		for (size_t i = 0; names && i < v->nnames; i++)
			json_object_array_add(names, json_object_new_string(v->names[i] ? v->names[i] : ""));
		json_object_object_add(o, "names", names);
	}
	json_object_object_add(o, "input", input_to_json(&v->input));
	json_object_object_add(o, "runs", apiary_runs_to_json(v));
	put_str(o, "replay", v->replay);
	put_str(o, "dedup_key", v->dedup_key);
	return o;
}

/* ---- parsing back ------------------------------------------------------- */

/* strdup of a string member; NULL member or JSON null gives NULL (ok). */
static int get_str(struct json_object *o, const char *key, char **out)
{
	struct json_object *m;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &m) || !m)
		return 0;
	if (!json_object_is_type(m, json_type_string))
		return -EINVAL;
	*out = strdup(json_object_get_string(m));
	return *out ? 0 : -ENOMEM;
}

static int64_t get_int(struct json_object *o, const char *key)
{
	struct json_object *m;

	if (!json_object_object_get_ex(o, key, &m) || !m)
		return 0;
	return json_object_get_int64(m);
}

static struct json_object *get_array(struct json_object *o, const char *key)
{
	struct json_object *m;

	if (!json_object_object_get_ex(o, key, &m) || !json_object_is_type(m, json_type_array))
		return NULL;
	return m;
}

/* Hex member to exactly n malloc'd bytes; null gives NULL (ok). */
static int get_bytes(struct json_object *o, const char *key, size_t n, uint8_t **out)
{
	char *hex;
	int err = get_str(o, key, &hex);

	*out = NULL;
	if (err || !hex)
		return err;
	*out = calloc(1, n ? n : 1);
	if (!*out)
		err = -ENOMEM;
	else if (apiary_unhex(hex, *out, n) != (long)n)
		err = -EINVAL;
	free(hex);
	return err;
}

static int parties_from_json(struct json_object *a, struct apiary_violation *v)
{
	size_t n = a ? json_object_array_length(a) : 0;
	int err = 0;

	if (!n)
		return 0;
	v->parties = calloc(n, sizeof(*v->parties));
	if (!v->parties)
		return -ENOMEM;
	v->nparties = n;
	for (size_t i = 0; i < n && !err; i++) {
		struct json_object *p = json_object_array_get_idx(a, i);
		struct apiary_party *pt = &v->parties[i];

		err = get_str(p, "enforcer", &pt->enforcer) ?: get_str(p, "team", &pt->team);
		pt->version = (uint32_t)get_int(p, "version");
		pt->spec_line = (int)get_int(p, "spec_line");
		pt->spec_col = (int)get_int(p, "spec_col");
	}
	return err;
}

/* Enforcer names by index (traces refer to them). */
static int names_from_json(struct json_object *a, struct apiary_violation *v)
{
	size_t n = a ? json_object_array_length(a) : 0;
	int err = 0;

	if (!n)
		return 0;
	v->names = calloc(n, sizeof(*v->names));
	if (!v->names)
		return -ENOMEM;
	for (size_t i = 0; i < n && !err; i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(a, i));

		v->names[i] = strdup(s ? s : "");
		if (!v->names[i])
			err = -ENOMEM;
		else
			v->nnames++;
	}
	return err;
}

static int outcome_from_json(struct json_object *o, struct apiary_outcome *oc)
{
	struct json_object *tr = get_array(o, "trace");
	char *hex;
	long n;
	int err;

	memset(oc, 0, sizeof(*oc));
	oc->hook = (uint32_t)get_int(o, "hook");
	oc->verdict = (int)get_int(o, "verdict");
	oc->flow_id = (uint64_t)get_int(o, "flow_id");
	oc->direction = (uint32_t)get_int(o, "direction");
	oc->matched = (uint32_t)get_int(o, "matched");
	err = get_str(o, "data", &hex);
	if (err)
		return err;
	if (hex) {
		n = apiary_unhex(hex, oc->data, sizeof(oc->data));
		free(hex);
		if (n < 0)
			return (int)n;
		oc->len = (uint32_t)n;
	}
	for (size_t i = 0; tr && i < json_object_array_length(tr) && i < APIARY_MAX_TRACE; i++) {
		struct json_object *t = json_object_array_get_idx(tr, i);

		oc->trace[i].enforcer = (uint8_t)get_int(t, "enforcer");
		oc->trace[i].vslot = (uint8_t)get_int(t, "vslot");
		oc->trace[i].hook = (uint8_t)get_int(t, "hook");
		oc->trace[i].verdict = (int32_t)get_int(t, "verdict");
		oc->ntrace = (uint32_t)i + 1;
	}
	return 0;
}

/* Parse an array as written by apiary_runs_to_json() into v->runs. */
static int runs_from_json(struct json_object *a, struct apiary_violation *v)
{
	size_t n = a ? json_object_array_length(a) : 0;
	int err = 0;

	if (n > 2)
		return -EINVAL;
	v->nruns = n;
	for (size_t r = 0; r < n && !err; r++) {
		struct json_object *o = json_object_array_get_idx(a, r);
		struct json_object *ord = get_array(o, "order");
		struct json_object *ocs = get_array(o, "outcomes");
		struct json_object *chs = get_array(o, "changes");
		struct apiary_vrun *run = &v->runs[r];

		err = get_str(o, "label", &run->label);
		for (size_t i = 0; ord && i < json_object_array_length(ord) && i < APIARY_MAX_CHAIN; i++) {
			run->order[i] = json_object_get_int(json_object_array_get_idx(ord, i));
			run->norder = i + 1;
		}
		if (!err && ocs && json_object_array_length(ocs)) {
			run->noutcomes = json_object_array_length(ocs);
			run->outcomes = calloc(run->noutcomes, sizeof(*run->outcomes));
			if (!run->outcomes) {
				run->noutcomes = 0;
				err = -ENOMEM;
			}
			for (size_t i = 0; !err && i < run->noutcomes; i++)
				err = outcome_from_json(json_object_array_get_idx(ocs, i),
							&run->outcomes[i]);
		}
		if (!err && chs && json_object_array_length(chs)) {
			size_t nc = json_object_array_length(chs);

			run->changes = calloc(nc, sizeof(*run->changes));
			if (!run->changes)
				err = -ENOMEM;
			else
				run->nchanges = nc;
			for (size_t i = 0; !err && i < nc; i++) {
				struct json_object *c = json_object_array_get_idx(chs, i);
				struct apiary_vchange *ch = &run->changes[i];

				ch->key_size = (uint32_t)get_int(c, "key_size");
				ch->value_size = (uint32_t)get_int(c, "value_size");
				err = get_str(c, "map", &ch->map) ?:
				      get_bytes(c, "key", ch->key_size, &ch->key) ?:
				      get_bytes(c, "before", ch->value_size, &ch->before) ?:
				      get_bytes(c, "after", ch->value_size, &ch->after);
			}
		}
	}
	return err;
}

static int input_from_json(struct json_object *o, struct apiary_input *in)
{
	struct json_object *evs = o ? get_array(o, "events") : NULL;

	memset(in, 0, sizeof(*in));
	if (!o)
		return 0;
	in->ordering = (uint8_t)get_int(o, "ordering");
	in->update_at = (uint8_t)get_int(o, "update_at");
	for (size_t i = 0; evs && i < json_object_array_length(evs) && i < APIARY_INPUT_MAX_EVENTS;
	     i++) {
		struct json_object *e = json_object_array_get_idx(evs, i);
		struct apiary_event *ev = &in->events[i];
		char *hex;
		long n;
		int err = get_str(e, "data", &hex);

		if (err)
			return err;
		ev->hook = (enum apiary_hook)get_int(e, "hook_id");
		n = hex ? apiary_unhex(hex, ev->data, sizeof(ev->data)) : 0;
		free(hex);
		if (n < 0)
			return (int)n;
		ev->len = (uint16_t)n;
		in->nevents = i + 1;
	}
	return 0;
}

/* Map an invariant name back to its enum; -1 if unknown. */
static int invariant_parse(const char *name)
{
	for (int i = 0; i < APIARY_INV__COUNT; i++)
		if (name && !strcmp(apiary_invariant_name(i), name))
			return i;
	return -1;
}

int apiary_violation_from_json(struct json_object *j, struct apiary_violation *v)
{
	struct json_object *in = NULL;
	char *inv = NULL, *sev = NULL;
	int err, k;

	memset(v, 0, sizeof(*v));
	if (!j || !json_object_is_type(j, json_type_object))
		return -EINVAL;
	err = get_str(j, "invariant", &inv) ?: get_str(j, "severity", &sev);
	if (err)
		goto out;
	k = invariant_parse(inv);
	if (k < 0) {
		err = -EINVAL;
		goto out;
	}
	v->invariant = k;
	v->severity = sev && !strcmp(sev, "info") ? APIARY_VS_INFO : APIARY_VS_ERROR;
	json_object_object_get_ex(j, "input", &in);
	err = get_str(j, "bundle", &v->bundle) ?: get_str(j, "bundle_hash", &v->bundle_hash) ?:
	      get_str(j, "summary", &v->summary) ?: get_str(j, "detail", &v->detail) ?:
	      get_str(j, "replay", &v->replay) ?: get_str(j, "dedup_key", &v->dedup_key) ?:
	      parties_from_json(get_array(j, "parties"), v) ?:
	      names_from_json(get_array(j, "names"), v) ?:
	      runs_from_json(get_array(j, "runs"), v) ?: input_from_json(in, &v->input);
out:
	free(inv);
	free(sev);
	if (err)
		apiary_violation_free(v);
	return err;
}

/* Exported to store.c (internal.h): parse the stored columns back. */
int apiary__parties_from_json(struct json_object *a, struct apiary_violation *v)
{
	return parties_from_json(a, v);
}

int apiary__runs_from_json(struct json_object *a, struct apiary_violation *v)
{
	return runs_from_json(a, v);
}

int apiary__invariant_parse(const char *name)
{
	return invariant_parse(name);
}
