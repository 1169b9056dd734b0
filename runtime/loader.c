// SPDX-License-Identifier: MIT
/*
 * The one loader: sidecar first (it owns the shared maps), then every
 * enforcer object with the shared maps reused by name, globals written
 * before load, config entries after, program fds wired into the prog
 * arrays, default chains and routes written. Verifier rejections become
 * diagnostics at the failing C source line.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "apiary/coverage.h"
#include "apiary/runtime.h"
#include "rt_internal.h"

#define RT_LOG_SIZE (4u << 20)

static const char *const shared_names[] = {
	APIARY_MAP_CTX, APIARY_MAP_PROGS_XDP, APIARY_MAP_PROGS_TC,
	APIARY_MAP_CHAIN, APIARY_MAP_ROUTES, APIARY_MAP_FLOWS,
};

static const char *const dispatcher_names[APIARY_NHOOKS] = {
	[APIARY_HOOK_ID_XDP] = "apiary_xdp",
	[APIARY_HOOK_ID_TC_INGRESS] = "apiary_tc_ingress",
	[APIARY_HOOK_ID_TC_EGRESS] = "apiary_tc_egress",
};

/* Loads swap libbpf's (process-wide) print callback: one at a time, so
 * concurrent loads cannot leave the quiet one installed. */
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

/* libbpf prints warnings to stderr by default; library code must not print,
 * and every failure it reports is turned into a diagnostic here. */
static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

/* Is this one of the sidecar's user-visible maps (not .rodata/.bss)? Only
 * such maps are shared by name. */
static struct bpf_map *sidecar_map(const struct apiary_rt *rt, const char *name)
{
	if (!name || strchr(name, '.'))
		return NULL;
	return bpf_object__find_map_by_name(rt->sidecar, name);
}

/* Spec location of an enforcer (or NULL if out of range). */
static const struct apiary_enforcer *enforcer_of(const struct apiary_rt *rt, int e)
{
	if (!rt->spec || e < 0 || (size_t)e >= rt->spec->nenforcers)
		return NULL;
	return &rt->spec->enforcers[e];
}

/* The update declaration of enforcer e, or NULL. */
static const struct apiary_update *update_of(const struct apiary_rt *rt, int e)
{
	const struct apiary_enforcer *en = enforcer_of(rt, e);
	size_t i;

	if (!en)
		return NULL;
	for (i = 0; i < rt->spec->nupdates; i++)
		if (rt->spec->updates[i].enforcer.s && !strcmp(rt->spec->updates[i].enforcer.s, en->name.s))
			return &rt->spec->updates[i];
	return NULL;
}

/* The config and global entries that apply to a program: the enforcer's for
 * version slot 0, its update's for slot 1. */
static void items_of(const struct apiary_rt *rt, const struct apiary_build_prog *bp,
		     const struct apiary_config **cfg, size_t *ncfg,
		     const struct apiary_global **glob, size_t *nglob)
{
	const struct apiary_enforcer *en = enforcer_of(rt, bp->enforcer);
	const struct apiary_update *up;

	*cfg = NULL;
	*ncfg = 0;
	*glob = NULL;
	*nglob = 0;
	if (!en)
		return;
	if (bp->vslot == 0) {
		*cfg = en->configs;
		*ncfg = en->nconfigs;
		*glob = en->globals;
		*nglob = en->nglobals;
		return;
	}
	up = update_of(rt, bp->enforcer);
	if (up) {
		*cfg = up->configs;
		*ncfg = up->nconfigs;
		*glob = up->globals;
		*nglob = up->nglobals;
	}
}

/* Does the internal map m (.data, .bss, .rodata, ...) hold section sec? */
static bool internal_map_is(const struct bpf_map *m, const char *sec)
{
	const char *n = bpf_map__name(m);
	size_t ln = strlen(n), ls = strlen(sec);

	return ln >= ls && !strcmp(n + ln - ls, sec);
}

/* Write one `global NAME = literal` into the initial value of the internal
 * map holding the variable; before load, so .rodata works too. */
static int apply_global(struct bpf_object *obj, const struct apiary_global *g,
			const char *objpath, struct apiary_diags *diags)
{
	struct btf *btf = bpf_object__btf(obj);
	struct bpf_map *m;
	uint32_t n, id;

	if (!btf)
		return apiary_error(diags, &g->name.loc,
				    "global %s: %s has no BTF (compile it with -g)", g->name.s, objpath);
	n = btf__type_cnt(btf);
	for (id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		uint32_t off, tid, size;
		const char *sec;
		const void *init;
		size_t msz;
		void *copy;
		int err;

		if (!btf_is_datasec(t) || rt_btf_find_var(btf, id, g->name.s, &off, &tid, &size))
			continue;
		sec = btf__name_by_offset(btf, t->name_off);
		m = NULL;
		bpf_object__for_each_map(m, obj) {
			if (bpf_map__is_internal(m) &&
			    (bpf_map__btf_value_type_id(m) == id || internal_map_is(m, sec)))
				break;
		}
		if (!m)
			return apiary_error(diags, &g->name.loc,
					    "global %s: section %s of %s has no map", g->name.s, sec,
					    objpath);
		init = bpf_map__initial_value(m, &msz);
		if (!init || off + size > msz)
			return apiary_error(diags, &g->name.loc,
					    "global %s: cannot set it in section %s of %s", g->name.s,
					    sec, objpath);
		copy = malloc(msz);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, init, msz);
		err = rt_btf_encode_lit(btf, tid, &g->value, g->name.s, (uint8_t *)copy + off, size,
					diags);
		if (!err)
			err = bpf_map__set_initial_value(m, copy, msz);
		free(copy);
		if (err > 0)
			err = -err;
		if (err && err != -EINVAL)
			return apiary_error(diags, &g->name.loc, "global %s: %s", g->name.s,
					    strerror(-err));
		return err;
	}
	return apiary_error(diags, &g->name.loc,
			    "global %s: %s has no global variable of that name (declare it as a non-static global, e.g. `volatile const __u32 %s = 0;`)",
			    g->name.s, objpath, g->name.s);
}

/* One `config MAP { key .. value .. }` entry, encoded through the BTF of the
 * map's defining object, written with bpf_map_update_elem. */
static int apply_config(struct apiary_rt *rt, struct bpf_object *obj,
			const struct apiary_config *c, const char *objpath,
			struct apiary_diags *diags)
{
	struct bpf_map *m = sidecar_map(rt, c->map.s);
	struct bpf_object *owner = rt->sidecar;
	uint8_t *key = NULL, *val = NULL;
	size_t ksz, vsz, stride, nval, i;
	enum bpf_map_type type;
	int err;

	if (!m) {
		m = c->map.s && !strchr(c->map.s, '.') ? bpf_object__find_map_by_name(obj, c->map.s)
						       : NULL;
		owner = obj;
	}
	if (!m)
		return apiary_error(diags, &c->map.loc, "config %s: no map of that name in %s",
				    c->map.s, objpath);
	ksz = bpf_map__key_size(m);
	vsz = bpf_map__value_size(m);
	type = bpf_map__type(m);
	stride = (vsz + 7) & ~(size_t)7;
	nval = 1;
	if (type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH ||
	    type == BPF_MAP_TYPE_LRU_PERCPU_HASH)
		nval = (size_t)rt->ncpus;
	key = calloc(1, ksz ? ksz : 1);
	val = calloc(nval, stride);
	if (!key || !val) {
		err = -ENOMEM;
		goto out;
	}
	err = rt_btf_encode_cfg(bpf_object__btf(owner), bpf_map__btf_key_type_id(m), &c->key,
				c->map.s, "key", key, ksz, diags);
	if (err)
		goto out;
	err = rt_btf_encode_cfg(bpf_object__btf(owner), bpf_map__btf_value_type_id(m), &c->value,
				c->map.s, "value", val, vsz, diags);
	if (err)
		goto out;
	/* Per-CPU maps take one value per possible CPU: the same on each. */
	for (i = 1; i < nval; i++)
		memcpy(val + i * stride, val, vsz);
	if (bpf_map_update_elem(bpf_map__fd(m), key, val, BPF_ANY)) {
		err = -errno;
		apiary_error(diags, &c->loc, "config %s: writing the entry failed: %s", c->map.s,
			     strerror(-err));
	}
out:
	free(key);
	free(val);
	return err;
}

/* A verifier rejection as a diagnostic: enforcer, program, source line,
 * plain explanation, and the verifier's last lines as detail. */
static void report_rejection(struct apiary_rt *rt, const struct apiary_build_prog *bp,
			     const char *prog_name, const char *objpath, int err,
			     struct apiary_diags *diags)
{
	const struct apiary_enforcer *en = bp ? enforcer_of(rt, bp->enforcer) : NULL;
	struct rt_vlog vl;
	struct apiary_loc loc = { 0 };
	const struct apiary_loc *lp = NULL;
	char who[512];
	char *detail = NULL;
	size_t dlen;

	rt_vlog_parse(rt->log_buf, &vl);
	if (en)
		snprintf(who, sizeof(who), "enforcer %s (team %s)", en->name.s,
			 en->team.s ? en->team.s : "?");
	else if (bp)
		snprintf(who, sizeof(who), "enforcer #%d", bp->enforcer);
	else
		snprintf(who, sizeof(who), "the sidecar");

	if (vl.line > 0) {
		/* The file named in the line info is a basename: prefer the
		 * enforcer's own source, then the wrapper next to the object. */
		const char *path = NULL;
		char buf[4096];

		if (bp && bp->source_path) {
			const char *base = strrchr(bp->source_path, '/');

			base = base ? base + 1 : bp->source_path;
			if (!strcmp(base, vl.file) || !strcmp(bp->source_path, vl.file))
				path = bp->source_path;
		}
		if (!path && objpath && vl.file[0] != '/') {
			const char *slash = strrchr(objpath, '/');

			if (slash) {
				snprintf(buf, sizeof(buf), "%.*s/%s", (int)(slash - objpath), objpath,
					 vl.file);
				if (!access(buf, R_OK))
					path = buf;
			}
		}
		if (!path)
			path = vl.file;
		loc.file = rt_intern_path(path);
		loc.src = rt_intern_text(path);
		loc.line = vl.line;
		loc.col = 1;
		lp = &loc;
	} else if (en) {
		lp = &en->loc;
	}

	if (vl.error[0])
		apiary_error(diags, lp, "%s: the verifier rejected program %s: %s", who, prog_name,
			     vl.error);
	else
		apiary_error(diags, lp, "%s: loading program %s from %s failed: %s", who,
			     prog_name, objpath, strerror(-err));

	dlen = strlen(vl.tail) + 512;
	detail = malloc(dlen);
	if (!detail)
		return;
	snprintf(detail, dlen, "%s%s%s%s%s%sverifier log (last lines):\n%s",
		 vl.hint ? "hint: " : "", vl.hint ? vl.hint : "", vl.hint ? "\n" : "",
		 vl.src[0] ? "failing source: " : "", vl.src[0] ? vl.src : "",
		 vl.src[0] ? "\n" : "", vl.tail[0] ? vl.tail : "(empty)\n");
	apiary_diag_set_detail(diags, detail);
	free(detail);
}

/* Ids of the maps a program references (for apiary_rt_prog_uses_map). */
static int prog_map_ids(struct rt_prog *p)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info), n;

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(p->fd, &info, &len))
		return -errno;
	n = info.nr_map_ids;
	if (!n)
		return 0;
	p->map_ids = calloc(n, sizeof(*p->map_ids));
	if (!p->map_ids)
		return -ENOMEM;
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = n;
	info.map_ids = (uint64_t)(uintptr_t)p->map_ids;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(p->fd, &info, &len))
		return -errno;
	p->nmap_ids = info.nr_map_ids < n ? info.nr_map_ids : n;
	return 0;
}

/* Open one program's object, share the sidecar's maps, set globals, load
 * only the named program, apply configs. */
static int load_prog(struct apiary_rt *rt, struct rt_prog *p, bool no_config,
		     struct apiary_diags *diags)
{
	const struct apiary_build_prog *bp = p->bp;
	const struct apiary_enforcer *en = enforcer_of(rt, bp->enforcer);
	const struct apiary_config *cfg;
	const struct apiary_global *glob;
	size_t ncfg, nglob, i;
	struct bpf_program *prog, *want = NULL;
	struct bpf_map *m;
	int err = 0;

	items_of(rt, bp, &cfg, &ncfg, &glob, &nglob);
	p->obj = bpf_object__open_file(bp->object_path, NULL);
	if (!p->obj) {
		err = -errno;
		apiary_error(diags, en ? &en->loc : NULL, "enforcer %s: opening %s: %s",
			     en ? en->name.s : "?", bp->object_path, strerror(-err));
		return err;
	}
	bpf_object__for_each_map(m, p->obj) {
		struct bpf_map *sm = sidecar_map(rt, bpf_map__name(m));

		if (sm && !bpf_map__is_internal(m)) {
			err = bpf_map__reuse_fd(m, bpf_map__fd(sm));
			if (err)
				return apiary_error(diags, NULL, "%s: sharing map %s: %s",
						    bp->object_path, bpf_map__name(m),
						    strerror(-err));
		}
	}
	bpf_object__for_each_program(prog, p->obj) {
		bool is = bp->prog_name && !strcmp(bpf_program__name(prog), bp->prog_name);

		bpf_program__set_autoload(prog, is);
		if (is)
			want = prog;
	}
	if (!want)
		return apiary_error(diags, en ? &en->loc : NULL, "enforcer %s: %s has no program %s",
				    en ? en->name.s : "?", bp->object_path,
				    bp->prog_name ? bp->prog_name : "(null)");
	/* log_level stays 0: on failure libbpf reloads with level 1 into this
	 * buffer, so a successful load costs no log. */
	rt->log_buf[0] = '\0';
	bpf_program__set_log_buf(want, rt->log_buf, rt->log_size);
	for (i = 0; !no_config && i < nglob; i++) {
		err = apply_global(p->obj, &glob[i], bp->object_path, diags);
		if (err)
			return err;
	}
	err = bpf_object__load(p->obj);
	if (err) {
		report_rejection(rt, bp, bp->prog_name, bp->object_path, err, diags);
		return -EINVAL;
	}
	p->fd = bpf_program__fd(want);
	err = prog_map_ids(p);
	if (err)
		return apiary_error(diags, NULL, "%s: reading program info: %s", bp->prog_name,
				    strerror(-err));
	for (i = 0; !no_config && i < ncfg; i++) {
		err = apply_config(rt, p->obj, &cfg[i], bp->object_path, diags);
		if (err)
			return err;
	}
	return 0;
}

/* The sidecar: load it (with a log, though a rejection there is a compiler
 * bug), then find the shared maps and the dispatchers. */
static int load_sidecar(struct apiary_rt *rt, struct apiary_diags *diags)
{
	const char *path = rt->b->sidecar_object;
	struct bpf_program *prog;
	int *fds[] = { &rt->ctx_fd, &rt->progs_xdp_fd, &rt->progs_tc_fd,
		       &rt->chain_fd, &rt->routes_fd, &rt->flows_fd };
	size_t i;
	int err;

	rt->sidecar = bpf_object__open_file(path, NULL);
	if (!rt->sidecar) {
		err = -errno;
		apiary_error(diags, NULL, "opening sidecar %s: %s", path ? path : "(null)",
			     strerror(-err));
		return err;
	}
	if (rt->max_flows) {
		/* the other objects reuse the sidecar's map (and so its size) */
		struct bpf_map *fm = bpf_object__find_map_by_name(rt->sidecar, APIARY_MAP_FLOWS);

		if (fm && (err = bpf_map__set_max_entries(fm, rt->max_flows)))
			return apiary_error(diags, NULL, "resizing %s: %s", APIARY_MAP_FLOWS,
					    strerror(-err));
	}
	rt->log_buf[0] = '\0';
	bpf_object__for_each_program(prog, rt->sidecar)
		bpf_program__set_log_buf(prog, rt->log_buf, rt->log_size);
	/* `flows max N`: the declared size of the flow-to-version table; the
	 * enforcer objects take it over with the map's fd */
	if (rt->spec && rt->spec->classifier && rt->spec->classifier->max_flows) {
		struct bpf_map *fm = bpf_object__find_map_by_name(rt->sidecar, APIARY_MAP_FLOWS);

		if (fm && bpf_map__set_max_entries(fm, rt->spec->classifier->max_flows))
			return apiary_error(diags, &rt->spec->classifier->max_flows_loc,
					    "cannot size the flow table to %u entries",
					    rt->spec->classifier->max_flows);
	}
	err = bpf_object__load(rt->sidecar);
	if (err) {
		report_rejection(rt, NULL, "sidecar", path, err, diags);
		return -EINVAL;
	}
	for (i = 0; i < sizeof(shared_names) / sizeof(shared_names[0]); i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(rt->sidecar, shared_names[i]);

		if (!m)
			return apiary_error(diags, NULL, "sidecar %s has no map %s", path,
					    shared_names[i]);
		*fds[i] = bpf_map__fd(m);
	}
	for (i = 1; i < APIARY_NHOOKS; i++) {
		prog = bpf_object__find_program_by_name(rt->sidecar, dispatcher_names[i]);
		rt->disp_fd[i] = prog ? bpf_program__fd(prog) : -1;
	}
	{
		struct bpf_map *pm = bpf_object__find_map_by_name(rt->sidecar, APIARY_MAP_PINS);
		struct apiary_pins pc = {0};
		uint32_t zero = 0;

		rt->pins_fd = pm ? bpf_map__fd(pm) : -1;
		if (rt->spec && rt->spec->classifier)
			pc.idle = rt->spec->classifier->idle;
		if (rt->pins_fd >= 0 && bpf_map_update_elem(rt->pins_fd, &zero, &pc, BPF_ANY))
			return apiary_error(diags, NULL, "writing %s: %s", APIARY_MAP_PINS,
					    strerror(errno));
	}
	return 0;
}

/* The program of (enforcer, vslot), or NULL. */
static const struct rt_prog *find_prog(const struct apiary_rt *rt, int enforcer, int vslot)
{
	size_t i;

	for (i = 0; i < rt->nprogs; i++)
		if (rt->progs[i].bp->enforcer == enforcer && rt->progs[i].bp->vslot == vslot)
			return &rt->progs[i];
	return NULL;
}

/* Place each program in the prog array of its type. */
static int wire_progs(struct apiary_rt *rt, struct apiary_diags *diags)
{
	size_t i;

	for (i = 0; i < rt->nprogs; i++) {
		const struct rt_prog *p = &rt->progs[i];
		uint32_t slot = APIARY_PROG_SLOT(p->bp->enforcer, p->bp->vslot);
		int fd = p->bp->hook == APIARY_HOOK_XDP ? rt->progs_xdp_fd : rt->progs_tc_fd;

		if (p->fd < 0)
			continue;
		if (p->bp->enforcer < 0 || p->bp->enforcer >= APIARY_MAX_ENFORCERS ||
		    p->bp->vslot < 0 || p->bp->vslot >= APIARY_NVSLOTS)
			return apiary_error(diags, NULL, "program %s: enforcer %d slot %d out of range",
					    p->bp->prog_name, p->bp->enforcer, p->bp->vslot);
		if (bpf_map_update_elem(fd, &slot, &p->fd, BPF_ANY))
			return apiary_error(diags, NULL, "placing %s in the prog array: %s",
					    p->bp->prog_name, strerror(errno));
	}
	return 0;
}

/* Is enforcer e opaque (a prebuilt object)? */
static bool is_opaque(const struct apiary_rt *rt, int e)
{
	const struct rt_prog *p = find_prog(rt, e, 0);

	return p ? p->bp->opaque : false;
}

/* Default chains (spec order, the opaque enforcer last) and default routes
 * (slot 0, pinned). */
static int write_defaults(struct apiary_rt *rt, struct apiary_diags *diags)
{
	int order[APIARY_MAX_ENFORCERS];
	size_t n, ne = rt->spec ? rt->spec->nenforcers : 0;
	int h, e, pass;

	for (h = APIARY_HOOK_XDP; h < APIARY_HOOK__COUNT; h++) {
		n = 0;
		for (pass = 0; pass < 2; pass++)
			for (e = 0; (size_t)e < ne; e++) {
				if (rt->spec->enforcers[e].hook != (enum apiary_hook)h ||
				    !find_prog(rt, e, 0) || is_opaque(rt, e) != (pass == 1))
					continue;
				if (n == APIARY_MAX_CHAIN)
					return apiary_error(diags, &rt->spec->enforcers[e].loc,
							    "more than %d enforcers at %s",
							    APIARY_MAX_CHAIN, apiary_hook_name(h));
				order[n++] = e;
			}
		if (apiary_rt_set_chain(rt, h, order, n))
			return apiary_error(diags, NULL, "writing the default chain of hook %d: %s",
					    h, strerror(errno));
	}
	for (e = 0; (size_t)e < ne && e < APIARY_MAX_ENFORCERS; e++)
		if (apiary_rt_set_route(rt, e, 0, APIARY_ROUTE_PINNED))
			return apiary_error(diags, NULL, "writing the route of enforcer %d: %s", e,
					    strerror(errno));
	return 0;
}

/* Can the state code read and write maps of this type? */
static bool state_type(uint32_t type, bool *percpu)
{
	*percpu = type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_ARRAY ||
		  type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
	switch (type) {
	case BPF_MAP_TYPE_HASH:
	case BPF_MAP_TYPE_ARRAY:
	case BPF_MAP_TYPE_PERCPU_HASH:
	case BPF_MAP_TYPE_PERCPU_ARRAY:
	case BPF_MAP_TYPE_LRU_HASH:
	case BPF_MAP_TYPE_LRU_PERCPU_HASH:
	case BPF_MAP_TYPE_LPM_TRIE:
		return true;
	default:
		return false;
	}
}

/* Append one state map. */
static int add_map(struct apiary_rt *rt, const struct bpf_object *obj, const struct bpf_map *m,
		   const char *name, int owner)
{
	struct rt_map *nm, *r;
	struct bpf_map_info info;
	uint32_t len = sizeof(info);
	bool percpu;

	if (!state_type(bpf_map__type(m), &percpu))
		return 0;
	nm = realloc(rt->maps, (rt->nmaps + 1) * sizeof(*nm));
	if (!nm)
		return -ENOMEM;
	rt->maps = nm;
	r = &rt->maps[rt->nmaps];
	memset(r, 0, sizeof(*r));
	r->name = strdup(name);
	if (!r->name)
		return -ENOMEM;
	r->fd = bpf_map__fd(m);
	r->owner = owner;
	r->type = bpf_map__type(m);
	r->key_size = bpf_map__key_size(m);
	r->value_size = bpf_map__value_size(m);
	r->max_entries = bpf_map__max_entries(m);
	r->percpu = percpu;
	r->btf = obj ? bpf_object__btf(obj) : NULL;
	r->key_type = bpf_map__btf_key_type_id(m);
	r->value_type = bpf_map__btf_value_type_id(m);
	r->vsize = percpu ? ((r->value_size + 7) & ~7u) * (size_t)rt->ncpus : r->value_size;
	memset(&info, 0, sizeof(info));
	if (!bpf_obj_get_info_by_fd(r->fd, &info, &len))
		r->id = info.id;
	rt->nmaps++;
	return 0;
}

/* The bundle's state maps: declared state and flows (shared), then every
 * map an enforcer object defines for itself, except read-only data. */
static int collect_maps(struct apiary_rt *rt)
{
	size_t i;
	int err;

	for (i = 0; rt->spec && i < rt->spec->nstates; i++) {
		struct bpf_map *m = sidecar_map(rt, rt->spec->states[i].name.s);

		if (m && (err = add_map(rt, rt->sidecar, m, bpf_map__name(m), -1)))
			return err;
	}
	err = add_map(rt, rt->sidecar, sidecar_map(rt, APIARY_MAP_FLOWS), APIARY_MAP_FLOWS, -1);
	if (err)
		return err;
	for (i = 0; i < rt->nprogs; i++) {
		const struct rt_prog *p = &rt->progs[i];
		const struct apiary_enforcer *en = enforcer_of(rt, p->bp->enforcer);
		struct bpf_map *m;

		if (!p->obj || p->fd < 0)
			continue;
		bpf_object__for_each_map(m, p->obj) {
			const char *mn = bpf_map__name(m), *shown = mn;
			char name[512];

			if (bpf_map__is_internal(m)) {
				shown = strchr(mn, '.');
				/* coverage counters change on every run: not state
				 * (found by section: the map's own name is cut to 15
				 * characters) */
				if (!shown || strstr(shown, "rodata") || strstr(shown, "kconfig") ||
				    bpf_object__find_map_by_name(p->obj, APIARY_COV_SECTION) == m)
					continue;
			} else if (sidecar_map(rt, mn)) {
				continue;
			}
			if (p->bp->vslot)
				snprintf(name, sizeof(name), "%s@v%u:%s",
					 en ? en->name.s : "?", p->bp->version, shown);
			else
				snprintf(name, sizeof(name), "%s:%s", en ? en->name.s : "?", shown);
			err = add_map(rt, p->obj, m, name, p->bp->enforcer);
			if (err)
				return err;
		}
	}
	return 0;
}

/* Pin the calling thread to cpu: per-CPU scratch is read from that CPU. */
static int pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

/* Load, configure and wire a compiled bundle. */
int apiary_rt_load(const struct apiary_build *b, const struct apiary_rt_opts *opts,
		   struct apiary_rt **out, struct apiary_diags *diags)
{
	libbpf_print_fn_t old_print;
	struct apiary_rt *rt;
	bool no_config = false;
	size_t i;
	int err = 0, first_err = 0;

	*out = NULL;
	if (!b || !b->sidecar_object)
		return apiary_error(diags, NULL, "no compiled bundle to load");
	rt = calloc(1, sizeof(*rt));
	if (!rt)
		return -ENOMEM;
	rt->b = b;
	rt->spec = b->spec;
	rt->cpu = 0;
	if (opts && opts->sz >= offsetof(struct apiary_rt_opts, cpu) + sizeof(opts->cpu) &&
	    opts->cpu >= 0)
		rt->cpu = opts->cpu;
	if (opts && opts->sz >= offsetof(struct apiary_rt_opts, no_config) + sizeof(bool))
		no_config = opts->no_config;
	if (opts && opts->sz >= offsetof(struct apiary_rt_opts, max_flows) + sizeof(uint32_t))
		rt->max_flows = opts->max_flows;
	rt->ctx_fd = rt->progs_xdp_fd = rt->progs_tc_fd = -1;
	rt->chain_fd = rt->routes_fd = rt->flows_fd = rt->pins_fd = -1;
	for (i = 0; i < APIARY_NHOOKS; i++)
		rt->disp_fd[i] = -1;
	rt->ncpus = libbpf_num_possible_cpus();
	if (rt->ncpus <= 0) {
		err = apiary_error(diags, NULL, "cannot count the possible CPUs");
		goto out_free;
	}
	if (rt->cpu >= rt->ncpus) {
		err = apiary_error(diags, NULL, "CPU %d does not exist (%d possible)", rt->cpu,
				   rt->ncpus);
		goto out_free;
	}
	err = pin_cpu(rt->cpu);
	if (err) {
		apiary_error(diags, NULL, "pinning the thread to CPU %d: %s", rt->cpu,
			     strerror(-err));
		goto out_free;
	}
	rt->ctx_stride = (sizeof(struct apiary_ctx) + 7) & ~(size_t)7;
	rt->ctx_buf = calloc((size_t)rt->ncpus, rt->ctx_stride);
	rt->log_size = RT_LOG_SIZE;
	rt->log_buf = malloc(rt->log_size);
	rt->progs = calloc(b->nprogs ? b->nprogs : 1, sizeof(*rt->progs));
	if (!rt->ctx_buf || !rt->log_buf || !rt->progs) {
		err = -ENOMEM;
		goto out_free;
	}
	rt->nprogs = b->nprogs;
	for (i = 0; i < rt->nprogs; i++) {
		rt->progs[i].bp = &b->progs[i];
		rt->progs[i].fd = -1;
	}

	pthread_mutex_lock(&load_lock);
	old_print = libbpf_set_print(quiet_print);
	err = load_sidecar(rt, diags);
	/* Load every program even after a failure, so one run reports every
	 * rejected enforcer. */
	for (i = 0; !err && i < rt->nprogs; i++) {
		int e = load_prog(rt, &rt->progs[i], no_config, diags);

		if (e && !first_err)
			first_err = e;
	}
	libbpf_set_print(old_print);
	pthread_mutex_unlock(&load_lock);
	err = err ?: first_err;
	err = err ?: wire_progs(rt, diags);
	err = err ?: write_defaults(rt, diags);
	err = err ?: collect_maps(rt);
	if (err)
		goto out_free;
	free(rt->log_buf);
	rt->log_buf = NULL;
	*out = rt;
	return 0;
out_free:
	apiary_rt_free(rt);
	return err < 0 ? err : -EINVAL;
}

void apiary_rt_free(struct apiary_rt *rt)
{
	size_t i;

	if (!rt)
		return;
	for (i = 0; i < rt->nprogs; i++) {
		bpf_object__close(rt->progs[i].obj);
		free(rt->progs[i].map_ids);
	}
	for (i = 0; i < rt->nmaps; i++)
		free(rt->maps[i].name);
	bpf_object__close(rt->sidecar);
	free(rt->progs);
	free(rt->maps);
	free(rt->ctx_buf);
	free(rt->log_buf);
	free(rt);
}

/* Write the chain of one hook. */
int apiary_rt_set_chain(struct apiary_rt *rt, enum apiary_hook hook, const int *enforcers,
			size_t n)
{
	struct apiary_chain ch;
	uint32_t key = (uint32_t)hook;
	size_t i;

	if (!rt || hook <= APIARY_HOOK_NONE || hook >= APIARY_HOOK__COUNT || n > APIARY_MAX_CHAIN ||
	    (n && !enforcers))
		return -(errno = EINVAL);
	memset(&ch, 0, sizeof(ch));
	for (i = 0; i < n; i++) {
		if (enforcers[i] < 0 || enforcers[i] >= APIARY_MAX_ENFORCERS)
			return -(errno = EINVAL);
		if (rt->spec && ((size_t)enforcers[i] >= rt->spec->nenforcers ||
				 rt->spec->enforcers[enforcers[i]].hook != hook))
			return -(errno = EINVAL);
		ch.enforcer[i] = (uint8_t)enforcers[i];
	}
	ch.len = (uint32_t)n;
	return bpf_map_update_elem(rt->chain_fd, &key, &ch, BPF_ANY) ? -errno : 0;
}

/* Write the route of one enforcer. */
int apiary_rt_set_route(struct apiary_rt *rt, int enforcer, int default_vslot, int mode)
{
	struct apiary_route r;
	uint32_t key = (uint32_t)enforcer;

	if (!rt || enforcer < 0 || enforcer >= APIARY_MAX_ENFORCERS || default_vslot < 0 ||
	    default_vslot >= APIARY_NVSLOTS ||
	    (mode != APIARY_ROUTE_PINNED && mode != APIARY_ROUTE_NAIVE))
		return -(errno = EINVAL);
	r.default_vslot = (uint32_t)default_vslot;
	r.mode = (uint32_t)mode;
	return bpf_map_update_elem(rt->routes_fd, &key, &r, BPF_ANY) ? -errno : 0;
}

/* Set the logical clock of the flow table (apiary_pins.now). */
int apiary_rt_set_clock(struct apiary_rt *rt, uint64_t now)
{
	struct apiary_pins pc;
	uint32_t zero = 0;

	if (!rt || rt->pins_fd < 0)
		return -ENOENT;
	if (bpf_map_lookup_elem(rt->pins_fd, &zero, &pc))
		return -errno;
	pc.now = now;
	return bpf_map_update_elem(rt->pins_fd, &zero, &pc, BPF_ANY) ? -errno : 0;
}

/* Read (and with reset, zero) the flow table's counters. */
int apiary_rt_pins(struct apiary_rt *rt, struct apiary_pins *out, bool reset)
{
	struct apiary_pins pc;
	uint32_t zero = 0;

	if (!rt || rt->pins_fd < 0)
		return -ENOENT;
	if (bpf_map_lookup_elem(rt->pins_fd, &zero, &pc))
		return -errno;
	if (out)
		*out = pc;
	if (!reset)
		return 0;
	pc.refused = pc.repinned = pc.reclaimed = 0;
	return bpf_map_update_elem(rt->pins_fd, &zero, &pc, BPF_ANY) ? -errno : 0;
}

/* One event through its hook's dispatcher, then the per-CPU context of the
 * pinned CPU for the trace. */
int apiary_rt_run(struct apiary_rt *rt, const struct apiary_event *ev, struct apiary_outcome *out)
{
	uint8_t in[APIARY_INPUT_MAX_FRAME];
	uint32_t len, zero = 0;
	struct xdp_md md;
	struct __sk_buff skb;
	const struct apiary_ctx *c;
	int fd, err;

	if (!rt || !ev || !out || ev->hook <= APIARY_HOOK_NONE || ev->hook >= APIARY_HOOK__COUNT)
		return -EINVAL;
	fd = rt->disp_fd[ev->hook];
	if (fd < 0)
		return -ENOENT;
	/* Another thread may run the bundle: the context is per-CPU, so run
	 * where it is read. */
	if (sched_getcpu() != rt->cpu && (err = pin_cpu(rt->cpu)))
		return err;
	len = ev->len > APIARY_INPUT_MAX_FRAME ? APIARY_INPUT_MAX_FRAME : ev->len;
	memcpy(in, ev->data, len);
	if (len < 14) {
		memset(in + len, 0, 14 - len);
		len = 14;
	}
	memset(out, 0, sizeof(*out));
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = in, .data_size_in = len,
		    .data_out = out->data, .data_size_out = sizeof(out->data), .repeat = 1);
	if (ev->hook == APIARY_HOOK_XDP) {
		memset(&md, 0, sizeof(md));
		md.data_end = len;
		t.ctx_in = &md;
		t.ctx_size_in = sizeof(md);
	} else {
		memset(&skb, 0, sizeof(skb));
		t.ctx_in = &skb;
		t.ctx_size_in = sizeof(skb);
	}
	err = bpf_prog_test_run_opts(fd, &t);
	if (err)
		return -errno;
	out->verdict = (int)t.retval;
	out->len = t.data_size_out;
	if (bpf_map_lookup_elem(rt->ctx_fd, &zero, rt->ctx_buf))
		return -errno;
	c = (const struct apiary_ctx *)((const uint8_t *)rt->ctx_buf +
					(size_t)rt->cpu * rt->ctx_stride);
	out->ntrace = c->ntrace > APIARY_MAX_TRACE ? APIARY_MAX_TRACE : c->ntrace;
	memcpy(out->trace, c->trace, out->ntrace * sizeof(out->trace[0]));
	/* An opaque enforcer never returns to a wrapper: its verdict is the
	 * run's. */
	if (out->ntrace && out->trace[out->ntrace - 1].verdict == APIARY_VERDICT_UNKNOWN)
		out->trace[out->ntrace - 1].verdict = out->verdict;
	out->flow_id = c->flow_id;
	out->direction = c->direction;
	out->matched = c->matched;
	return 0;
}

int apiary_rt_prog_fd(const struct apiary_rt *rt, int enforcer, int vslot)
{
	const struct rt_prog *p = rt ? find_prog(rt, enforcer, vslot) : NULL;

	return p ? p->fd : -1;
}

int apiary_rt_dispatcher_fd(const struct apiary_rt *rt, enum apiary_hook hook)
{
	if (!rt || hook <= APIARY_HOOK_NONE || hook >= APIARY_HOOK__COUNT)
		return -1;
	return rt->disp_fd[hook];
}

size_t apiary_rt_nmaps(const struct apiary_rt *rt)
{
	return rt ? rt->nmaps : 0;
}

const char *apiary_rt_map_name(const struct apiary_rt *rt, size_t i)
{
	return rt && i < rt->nmaps ? rt->maps[i].name : NULL;
}

int apiary_rt_map_owner(const struct apiary_rt *rt, size_t i)
{
	return rt && i < rt->nmaps ? rt->maps[i].owner : -1;
}

bool apiary_rt_prog_uses_map(const struct apiary_rt *rt, int enforcer, int vslot, size_t i)
{
	const struct rt_prog *p = rt ? find_prog(rt, enforcer, vslot) : NULL;
	uint32_t k;

	if (!p || i >= rt->nmaps || !rt->maps[i].id)
		return false;
	for (k = 0; k < p->nmap_ids; k++)
		if (p->map_ids[k] == rt->maps[i].id)
			return true;
	return false;
}

struct bpf_object *apiary_rt_object(const struct apiary_rt *rt, int enforcer, int vslot)
{
	const struct rt_prog *p = rt ? find_prog(rt, enforcer, vslot) : NULL;

	return p && p->fd >= 0 ? p->obj : NULL;
}

struct bpf_object *apiary_rt_sidecar_object(const struct apiary_rt *rt)
{
	return rt ? rt->sidecar : NULL;
}

int apiary_rt_map_fd(const struct apiary_rt *rt, size_t i)
{
	return rt && i < rt->nmaps ? rt->maps[i].fd : -1;
}
