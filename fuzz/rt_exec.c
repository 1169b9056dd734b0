// SPDX-License-Identifier: MIT
/*
 * The runtime executor: fuzzing inputs through a loaded bundle exactly as
 * apiary-check runs them (the dispatcher of each hook, the forwarding path
 * xdp -> tc.ingress -> tc.egress, the spec's orderings), but cheap enough
 * for an engine's hot loop:
 *
 *   - the ordering byte of the input picks one allowed ordering (declared
 *     `order`s, prebuilt objects last); chains are written only when they
 *     change from the previous execution;
 *   - the update event (update_at) routes new flows of every updated
 *     enforcer to its new version, as a rolling update would;
 *   - reset puts state back to where it was at load without allocating:
 *     mmap'able array maps (.bss/.data) are compared and copied in user
 *     space, other maps are read with one batch lookup each and only a map
 *     that differs triggers the full apiary_rt_restore();
 *   - when every program has counters the outcome signature is off, and a
 *     test run needs no trace: the dispatcher is run directly, without the
 *     extra read of the per-CPU context apiary_rt_run() does.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include "apiary/coverage.h"
#include "apiary/fuzz.h"

#define MAX_HOOK_ORDERINGS 256
#define BATCH_MAX_BYTES (4u << 20)

/* One state map and how to reset it. */
struct xmap {
	int fd;
	uint32_t type, ksz, vsz, max_entries;
	size_t vstride;       /* value bytes per entry in user space */
	/* mmap'able array: live memory and its contents at load */
	void *mem;
	size_t mem_len;
	uint8_t *mem0;
	/* batch path: contents at load, scratch for a read and for updates */
	bool batch;           /* the kernel has batch lookups for this map */
	size_t cap;           /* entries the buffers hold */
	uint32_t n0;          /* entries at load */
	uint8_t *k0, *v0, *k, *v, *uk, *uv, *seen;
	/* who may change it: the write flags of every object that has it
	 * (coverage.h); a nonzero flag or an object without flags means the
	 * reset must look */
	uint32_t id;
	volatile uint8_t **flags;
	size_t nflags;
	bool untracked;       /* an object without write flags has this map */
	bool is_flows;        /* apiary_flows: emptied by bumping the epoch */
	volatile uint8_t *side_flag[2]; /* the sidecar's flags for it (flows only) */
};

struct apiary_rt_exec {
	const struct apiary_spec *spec;
	struct apiary_rt *rt;
	struct apiary_snapshot *snap0;
	struct apiary_rt_exec_opts opts;
	/* orderings: per hook, the allowed permutations of its enforcers */
	int hook_enf[APIARY_NHOOKS][APIARY_MAX_CHAIN];
	size_t hook_n[APIARY_NHOOKS];
	int *perms[APIARY_NHOOKS];
	size_t nperms[APIARY_NHOOKS];
	int cur_perm[APIARY_NHOOKS]; /* written now; -1 unknown */
	/* updates */
	bool has_update[APIARY_MAX_ENFORCERS];
	bool routes_flipped;
	/* state */
	struct xmap *maps;
	size_t nmaps;
	/* coverage; the sidecar's flow epoch and creation count (fuzzing
	 * builds), the count when the table was last emptied for real */
	volatile uint32_t *flow_epoch;
	volatile uint64_t *flow_created;
	uint64_t created_at_purge;
	/* every object's write flags, zeroed after each reset */
	struct {
		volatile uint8_t *flags;
		uint32_t n;
	} wflags[1 + APIARY_MAX_ENFORCERS * APIARY_NVSLOTS];
	size_t nwflags;
	struct apiary_cov_map side_cov;
	struct apiary_cov_map cov[APIARY_MAX_ENFORCERS][APIARY_NVSLOTS];
	bool has_uncovered;
	bool need_trace;
	/* per-execution scratch */
	struct apiary_outcome out;
	struct apiary_event ev;
	uint64_t slow_resets;
	uint64_t refused;
	uint64_t runs;
	uint64_t skipped_hooks;
	int classifier_hook;
	uint64_t maps_read;   /* maps read back by resets (the rest were skipped) */
};

/* ---- orderings ------------------------------------------------------- */

struct perm_walk {
	struct apiary_rt_exec *x;
	int hook;
	bool before[APIARY_MAX_ENFORCERS][APIARY_MAX_ENFORCERS];
	int cur[APIARY_MAX_CHAIN];
	bool used[APIARY_MAX_CHAIN];
};

/* Linear extensions of the constraints at one hook, at most
 * MAX_HOOK_ORDERINGS (the ordering byte could not pick more). */
static void perm_rec(struct perm_walk *w, size_t depth)
{
	struct apiary_rt_exec *x = w->x;
	size_t n = x->hook_n[w->hook];

	if (x->nperms[w->hook] >= MAX_HOOK_ORDERINGS)
		return;
	if (depth == n) {
		memcpy(x->perms[w->hook] + x->nperms[w->hook]++ * n, w->cur, n * sizeof(int));
		return;
	}
	for (size_t i = 0; i < n; i++) {
		int e = x->hook_enf[w->hook][i];
		bool ok = !w->used[i];

		for (size_t j = 0; ok && j < n; j++)
			if (!w->used[j] && j != i && w->before[x->hook_enf[w->hook][j]][e])
				ok = false;
		if (!ok)
			continue;
		w->used[i] = true;
		w->cur[depth] = e;
		perm_rec(w, depth + 1);
		w->used[i] = false;
	}
}

/* The same constraints as the checker: declared orders (closed
 * transitively) and every prebuilt enforcer after the others at its hook. */
static int enumerate_orderings(struct apiary_rt_exec *x)
{
	const struct apiary_spec *s = x->spec;
	struct perm_walk *w = calloc(1, sizeof(*w));
	size_t ne = s->nenforcers;

	if (!w)
		return -ENOMEM;
	w->x = x;
	apiary_spec_must_precede(s, &w->before[0][0], APIARY_MAX_ENFORCERS);
	for (size_t e = 0; e < ne; e++) {
		int h = s->enforcers[e].hook;

		if (h <= 0 || h >= APIARY_NHOOKS || x->hook_n[h] >= APIARY_MAX_CHAIN) {
			free(w);
			return -EINVAL;
		}
		x->hook_enf[h][x->hook_n[h]++] = (int)e;
	}
	for (int h = 1; h < APIARY_NHOOKS; h++) {
		size_t n = x->hook_n[h] ? x->hook_n[h] : 1;

		x->perms[h] = calloc(MAX_HOOK_ORDERINGS, n * sizeof(int));
		if (!x->perms[h]) {
			free(w);
			return -ENOMEM;
		}
		w->hook = h;
		memset(w->used, 0, sizeof(w->used));
		perm_rec(w, 0);
		if (!x->nperms[h])
			x->nperms[h] = 1; /* no enforcer: one empty chain */
		x->cur_perm[h] = -1;
	}
	free(w);
	return 0;
}

size_t apiary_rt_exec_norderings(const struct apiary_rt_exec *x)
{
	size_t n = 1;

	for (int h = 1; h < APIARY_NHOOKS; h++)
		n *= x->nperms[h];
	return n;
}

/* Write the chains ordering byte `ord` selects (mixed radix over hooks). */
static int set_ordering(struct apiary_rt_exec *x, unsigned ord)
{
	for (int h = 1; h < APIARY_NHOOKS; h++) {
		int p = (int)(ord % x->nperms[h]);
		int err;

		ord /= (unsigned)x->nperms[h];
		if (p == x->cur_perm[h])
			continue;
		err = apiary_rt_set_chain(x->rt, h, x->perms[h] + (size_t)p * x->hook_n[h],
					  x->hook_n[h]);
		if (err)
			return err;
		x->cur_perm[h] = p;
	}
	return 0;
}

/* ---- state reset ----------------------------------------------------- */

/* Read a whole map with batch lookups into k/v (cap entries). Returns the
 * entry count, -ENOSPC if it holds more than cap, -ENOTSUP without batch
 * support. */
static long batch_read(const struct xmap *m, uint8_t *k, uint8_t *v)
{
	uint8_t in[64], outb[64];
	uint32_t total = 0;
	bool first = true;

	for (;;) {
		uint32_t count = (uint32_t)(m->cap - total);
		int r;

		if (!count)
			return -ENOSPC;
		r = bpf_map_lookup_batch(m->fd, first ? NULL : in, outb, k + (size_t)total * m->ksz,
					 v + (size_t)total * m->vstride, &count, NULL);
		if (r && errno != ENOENT) {
			int err = -errno;

			if (first && (err == -EINVAL || err == -ENOTSUP || err == -EOPNOTSUPP))
				return -ENOTSUP;
			return err;
		}
		total += count;
		if (r)
			return total;
		memcpy(in, outb, sizeof(in));
		first = false;
	}
}

/* Remember how a map looks now (at load, or right after a full restore). */
static int xmap_record(struct xmap *m)
{
	long n;

	if (m->mem) {
		memcpy(m->mem0, m->mem, m->mem_len);
		return 0;
	}
	if (!m->batch)
		return 0;
	n = batch_read(m, m->k0, m->v0);
	if (n == -ENOTSUP || n == -ENOSPC) {
		m->batch = false; /* every reset of this map goes the slow way */
		return 0;
	}
	if (n < 0)
		return (int)n;
	m->n0 = (uint32_t)n;
	return 0;
}

/* Set up one state map: mmap it if the kernel allows, else size batch
 * buffers for it. */
static int xmap_open(struct apiary_rt_exec *x, size_t i, struct xmap *m)
{
	struct bpf_map_info info;
	uint32_t len = sizeof(info);
	int ncpus = libbpf_num_possible_cpus();
	bool percpu;
	size_t entry;

	memset(m, 0, sizeof(*m));
	m->fd = apiary_rt_map_fd(x->rt, i);
	memset(&info, 0, sizeof(info));
	if (m->fd < 0 || bpf_obj_get_info_by_fd(m->fd, &info, &len))
		return -EBADF;
	m->type = info.type;
	m->id = info.id;
	m->is_flows = !strcmp(apiary_rt_map_name(x->rt, i), APIARY_MAP_FLOWS);
	m->ksz = info.key_size;
	m->vsz = info.value_size;
	m->max_entries = info.max_entries;
	percpu = info.type == BPF_MAP_TYPE_PERCPU_HASH || info.type == BPF_MAP_TYPE_PERCPU_ARRAY ||
		 info.type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
	m->vstride = percpu ? ((m->vsz + 7) & ~7u) * (size_t)(ncpus > 0 ? ncpus : 1) : m->vsz;
	if (info.type == BPF_MAP_TYPE_ARRAY && (info.map_flags & BPF_F_MMAPABLE)) {
		long page = sysconf(_SC_PAGESIZE);

		m->mem_len = (size_t)((m->vsz + 7) & ~7u) * m->max_entries;
		m->mem = mmap(NULL, (m->mem_len + (size_t)page - 1) / (size_t)page * (size_t)page,
			      PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
		if (m->mem == MAP_FAILED) {
			m->mem = NULL;
		} else {
			m->mem0 = malloc(m->mem_len ? m->mem_len : 1);
			return m->mem0 ? xmap_record(m) : -ENOMEM;
		}
	}
	if (m->ksz > 64 || info.type == BPF_MAP_TYPE_LPM_TRIE)
		return 0; /* slow path only */
	entry = m->ksz + m->vstride;
	/* one spare slot: a batch read that filled its buffer exactly asks
	 * once more, to hear the kernel say it is done */
	m->cap = (size_t)m->max_entries + 1;
	if (m->cap * entry > BATCH_MAX_BYTES)
		m->cap = BATCH_MAX_BYTES / (entry ? entry : 1);
	m->k0 = malloc(m->cap * (m->ksz ? m->ksz : 1));
	m->v0 = malloc(m->cap * (m->vstride ? m->vstride : 1));
	m->k = malloc(m->cap * (m->ksz ? m->ksz : 1));
	m->v = malloc(m->cap * (m->vstride ? m->vstride : 1));
	m->uk = malloc(m->cap * (m->ksz ? m->ksz : 1));
	m->uv = malloc(m->cap * (m->vstride ? m->vstride : 1));
	m->seen = malloc(m->cap);
	if (!m->k0 || !m->v0 || !m->k || !m->v || !m->uk || !m->uv || !m->seen)
		return -ENOMEM;
	m->batch = true;
	return xmap_record(m);
}

static void xmap_close(struct xmap *m)
{
	long page = sysconf(_SC_PAGESIZE);

	if (m->mem)
		munmap(m->mem, (m->mem_len + (size_t)page - 1) / (size_t)page * (size_t)page);
	free(m->mem0);
	free(m->k0);
	free(m->v0);
	free(m->k);
	free(m->v);
	free(m->uk);
	free(m->uv);
	free(m->seen);
	free((void *)m->flags);
}

/* Index of key in the recorded entries, or -1. */
static long recorded_at(const struct xmap *m, const uint8_t *key)
{
	for (uint32_t i = 0; i < m->n0; i++)
		if (!memcmp(m->k0 + (size_t)i * m->ksz, key, m->ksz))
			return (long)i;
	return -1;
}

/* Delete keys[0..n) and write (keys, vals)[0..n) back, in batches where the
 * map type has them. */
static int xmap_apply(const struct xmap *m, uint8_t *del, uint32_t ndel, uint8_t *uk, uint8_t *uv,
		      uint32_t nupd)
{
	uint32_t count = ndel;

	if (ndel && bpf_map_delete_batch(m->fd, del, &count, NULL)) {
		for (uint32_t i = 0; i < ndel; i++)
			if (bpf_map_delete_elem(m->fd, del + (size_t)i * m->ksz) && errno != ENOENT)
				return -errno;
	}
	count = nupd;
	if (nupd && bpf_map_update_batch(m->fd, uk, uv, &count, NULL)) {
		for (uint32_t i = 0; i < nupd; i++)
			if (bpf_map_update_elem(m->fd, uk + (size_t)i * m->ksz,
						uv + (size_t)i * m->vstride, BPF_ANY))
				return -errno;
	}
	return 0;
}

/*
 * Put one map back as recorded, without allocating: mmap'ed arrays by a
 * compare and copy in user space (no syscall), others by one batch read,
 * a diff against the recorded entries, and batch writes of the difference
 * (entries added since are deleted, changed or deleted ones rewritten).
 * Returns -ENOTSUP for maps only apiary_rt_restore() can handle.
 */
static int xmap_reset(struct xmap *m)
{
	uint32_t ndel = 0, nupd = 0;
	long n;

	if (m->mem) {
		if (memcmp(m->mem, m->mem0, m->mem_len))
			memcpy(m->mem, m->mem0, m->mem_len);
		return 0;
	}
	if (!m->batch)
		return -ENOTSUP;
	n = batch_read(m, m->k, m->v);
	if (n == -ENOSPC)
		return -ENOTSUP;
	if (n < 0)
		return (int)n;
	if (n == (long)m->n0 && !memcmp(m->k, m->k0, (size_t)n * m->ksz) &&
	    !memcmp(m->v, m->v0, (size_t)n * m->vstride))
		return 0; /* the common case: untouched */
	/* m->k/m->v are reused in place: deletions are compacted to the front
	 * of m->k (keys only), updates go to m->uk/m->uv */
	memset(m->seen, 0, m->n0);
	for (long i = 0; i < n; i++) {
		const uint8_t *k = m->k + (size_t)i * m->ksz, *v = m->v + (size_t)i * m->vstride;
		long r = recorded_at(m, k);

		if (r < 0) {
			memmove(m->k + (size_t)ndel * m->ksz, k, m->ksz);
			ndel++;
			continue;
		}
		m->seen[r] = 1;
		if (memcmp(v, m->v0 + (size_t)r * m->vstride, m->vstride)) {
			memcpy(m->uk + (size_t)nupd * m->ksz, k, m->ksz);
			memcpy(m->uv + (size_t)nupd * m->vstride, m->v0 + (size_t)r * m->vstride,
			       m->vstride);
			nupd++;
		}
	}
	for (uint32_t r = 0; r < m->n0; r++) {
		if (m->seen[r])
			continue;
		memcpy(m->uk + (size_t)nupd * m->ksz, m->k0 + (size_t)r * m->ksz, m->ksz);
		memcpy(m->uv + (size_t)nupd * m->vstride, m->v0 + (size_t)r * m->vstride, m->vstride);
		nupd++;
	}
	if (m->type == BPF_MAP_TYPE_ARRAY || m->type == BPF_MAP_TYPE_PERCPU_ARRAY)
		ndel = 0; /* array slots always exist */
	return xmap_apply(m, m->k, ndel, m->uk, m->uv, nupd);
}

/* Routes as loaded: every enforcer on its first version, pinned. */
static int reset_routes(struct apiary_rt_exec *x)
{
	for (size_t e = 0; e < x->spec->nenforcers && e < APIARY_MAX_ENFORCERS; e++) {
		int err;

		if (!x->has_update[e])
			continue;
		err = apiary_rt_set_route(x->rt, (int)e, 0, APIARY_ROUTE_PINNED);
		if (err)
			return err;
	}
	x->routes_flipped = false;
	return 0;
}

static bool any_flag(volatile uint8_t *const *flags, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (flags[i] && *flags[i])
			return true;
	return false;
}

/*
 * Reset map m without a syscall if that is exact; true when done. Nothing
 * to do when every object that has it keeps write flags and none is set
 * (mmap'ed arrays are compared in user space anyway). The flow table is
 * emptied by bumping the epoch when it was empty at load and only the
 * sidecar wrote it.
 */
static bool xmap_reset_cheaply(struct apiary_rt_exec *x, struct xmap *m)
{
	if (m->mem || m->untracked || any_flag(m->flags, m->nflags))
		return false;
	if (!any_flag(m->side_flag, 2))
		return true;
	if (!m->is_flows || !x->flow_epoch || !x->flow_created || !m->batch || m->n0)
		return false;
	/* old entries take room until deleted: empty the table for real
	 * before they and one input's new flows could fill it */
	if (m->max_entries <= APIARY_INPUT_MAX_EVENTS ||
	    *x->flow_created - x->created_at_purge > m->max_entries - APIARY_INPUT_MAX_EVENTS)
		return false;
	/* entries of an old epoch count as absent; after 2^32 bumps one
	 * would look current again, so a wrap takes the exact way */
	return ++*x->flow_epoch != 0;
}

/* Zero every object's write flags: the next run starts from "untouched". */
static void clear_write_flags(struct apiary_rt_exec *x)
{
	for (size_t i = 0; i < x->nwflags; i++)
		memset((void *)x->wflags[i].flags, 0, x->wflags[i].n);
}

/* State and routes as at load; `exact` reads every map back (the checker
 * is about to take over, or a test compares). */
static int reset_state(struct apiary_rt_exec *x, bool exact)
{
	bool clean = true;
	int err = 0;

	for (size_t i = 0; i < x->nmaps && !err; i++) {
		struct xmap *m = &x->maps[i];

		if (!exact && xmap_reset_cheaply(x, m))
			continue;
		if (!m->mem)
			x->maps_read++;
		err = xmap_reset(m);
		if (!err && m->is_flows && x->flow_created)
			x->created_at_purge = *x->flow_created;
		if (err == -ENOTSUP) {
			clean = false;
			err = 0;
		}
	}
	if (!err)
		clear_write_flags(x);
	if (!err && !clean) {
		/* a map without batch operations (LPM trie, big keys): the
		 * exact, allocating way */
		x->slow_resets++;
		err = apiary_rt_restore(x->rt, x->snap0);
		for (size_t i = 0; !err && i < x->nmaps; i++)
			if (!x->maps[i].mem)
				err = xmap_record(&x->maps[i]);
	}
	if (!err && x->routes_flipped)
		err = reset_routes(x);
	return err;
}

/* Executor reset: before every execution. */
static int exec_reset(void *ctx)
{
	struct apiary_rt_exec *x = ctx;

	return reset_state(x, x->opts.exact);
}

/* ---- running --------------------------------------------------------- */

static enum apiary_hook next_hook(enum apiary_hook h)
{
	return h == APIARY_HOOK_XDP ? APIARY_HOOK_TC_INGRESS
	       : h == APIARY_HOOK_TC_INGRESS ? APIARY_HOOK_TC_EGRESS
					     : APIARY_HOOK_NONE;
}

static bool continues(enum apiary_hook h, int verdict)
{
	if (h == APIARY_HOOK_XDP)
		return verdict == XDP_PASS;
	return verdict == TC_ACT_OK || verdict == TC_ACT_UNSPEC;
}

/* One test run of a hook's dispatcher without reading the trace back. */
static int run_fast(struct apiary_rt_exec *x, const struct apiary_event *ev,
		    struct apiary_outcome *o)
{
	struct xdp_md md;
	struct __sk_buff skb;
	int fd = apiary_rt_dispatcher_fd(x->rt, ev->hook);

	if (fd < 0)
		return -ENOENT;
	LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = ev->data, .data_size_in = ev->len,
		    .data_out = o->data, .data_size_out = sizeof(o->data), .repeat = 1);
	if (ev->hook == APIARY_HOOK_XDP) {
		memset(&md, 0, sizeof(md));
		md.data_end = ev->len;
		t.ctx_in = &md;
		t.ctx_size_in = sizeof(md);
	} else {
		memset(&skb, 0, sizeof(skb));
		t.ctx_in = &skb;
		t.ctx_size_in = sizeof(skb);
	}
	if (bpf_prog_test_run_opts(fd, &t))
		return -errno;
	o->hook = ev->hook;
	o->verdict = (int)t.retval;
	o->len = t.data_size_out;
	o->ntrace = 0;
	return 0;
}

/* Before event `at`: new flows of every updated enforcer get its update. */
static int do_update(struct apiary_rt_exec *x)
{
	for (size_t e = 0; e < x->spec->nenforcers && e < APIARY_MAX_ENFORCERS; e++) {
		int err;

		if (!x->has_update[e])
			continue;
		err = apiary_rt_set_route(x->rt, (int)e, 1, APIARY_ROUTE_PINNED);
		if (err)
			return err;
		x->routes_flipped = true;
	}
	return 0;
}

/*
 * May the hop to hook hk be left out? Its dispatcher would parse the frame,
 * find its flow and note FIN/RST and activity, and with an empty chain
 * hand the frame on unchanged. When the same frame already passed the
 * classifier's hook in this event, that noting changes nothing (chain.h),
 * so the test run (a few us for an skb) is saved.
 */
static bool skippable(const struct apiary_rt_exec *x, enum apiary_hook hk, bool same_frame_classified)
{
	return !x->opts.exact && same_frame_classified && x->hook_n[hk] == 0 &&
	       (int)hk != x->classifier_hook;
}

/* Executor run: each event along its forwarding path, as the checker. */
static int exec_run(void *ctx, struct apiary_harness *h, const struct apiary_input *in)
{
	struct apiary_rt_exec *x = ctx;
	size_t idx = 0;
	int err = set_ordering(x, in->ordering);

	for (size_t e = 0; !err && e < in->nevents; e++) {
		struct apiary_event *ev = &x->ev;
		const struct apiary_event *src = &in->events[e];
		bool classified = false; /* this frame, unchanged, passed the classifier's hook */

		if (e == in->update_at && !x->routes_flipped)
			err = do_update(x);
		ev->hook = src->hook;
		ev->len = src->len;
		memcpy(ev->data, src->data, src->len);
		for (enum apiary_hook hk = ev->hook; !err && hk != APIARY_HOOK_NONE;
		     hk = next_hook(hk)) {
			struct apiary_outcome *o = &x->out;

			if (skippable(x, hk, classified)) {
				x->skipped_hooks++;
				continue;
			}
			ev->hook = hk;
			err = x->need_trace ? apiary_rt_run(x->rt, ev, o) : run_fast(x, ev, o);
			if (err == -EINVAL && hk != APIARY_HOOK_XDP) {
				/* the kernel runs no tc program on an IPv4/IPv6 frame
				 * shorter than its IP header (test_run refuses it):
				 * the path ends here, as it does for the checker */
				apiary_harness_note_feature(h, 0x7265667573656400ULL | hk);
				x->refused++;
				err = 0;
				break;
			}
			if (err)
				break;
			o->hook = hk;
			x->runs++;
			apiary_harness_note_outcome(h, idx++, ev, o);
			if (!continues(hk, o->verdict) || o->len > sizeof(ev->data))
				break;
			if ((int)hk == x->classifier_hook)
				classified = true;
			if (o->len != ev->len || memcmp(ev->data, o->data, o->len)) {
				classified = false; /* rewritten: its flow may be another */
				memcpy(ev->data, o->data, o->len);
				ev->len = (uint16_t)o->len;
			}
		}
	}
	return err;
}

/* ---- setup ------------------------------------------------------------ */

/* Add a flag pointer to a list (setup only). */
static int add_flag(struct xmap *m, volatile uint8_t *flag)
{
	volatile uint8_t **n = realloc((void *)m->flags, (m->nflags + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	m->flags = n;
	m->flags[m->nflags++] = flag;
	return 0;
}

/* Note, for every state map object `obj` has, where obj says it wrote it
 * (cov's write flags), or that it cannot say. */
static int note_writers(struct apiary_rt_exec *x, struct bpf_object *obj,
			const struct apiary_cov_map *cov, bool sidecar)
{
	struct bpf_map *bm;

	if (cov->nwrites) {
		x->wflags[x->nwflags].flags = cov->writes;
		x->wflags[x->nwflags++].n = cov->nwrites;
	}
	bpf_object__for_each_map(bm, obj) {
		struct bpf_map_info info;
		uint32_t len = sizeof(info);
		int fd = bpf_map__fd(bm), idx;

		memset(&info, 0, sizeof(info));
		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
			continue;
		for (size_t i = 0; i < x->nmaps; i++) {
			struct xmap *m = &x->maps[i];
			int err;

			if (m->id != info.id || m->mem)
				continue;
			idx = cov->nwrites ? apiary_cov_map_write_index(cov, bpf_map__name(bm)) : -ENOENT;
			if (idx < 0) {
				m->untracked = true;
				continue;
			}
			if (sidecar && m->is_flows) {
				m->side_flag[0] = &cov->writes[idx];
				m->side_flag[1] = &cov->writes[cov->nwrites - 1];
				continue;
			}
			err = add_flag(m, &cov->writes[idx]);
			err = err ?: add_flag(m, &cov->writes[cov->nwrites - 1]);
			if (err)
				return err;
		}
	}
	return 0;
}

/* A variable of the sidecar's coverage section if it has this size. */
static volatile void *sidecar_var(struct apiary_rt_exec *x, struct bpf_object *side,
				  const char *name, uint32_t size)
{
	uint32_t sz = 0;
	volatile void *p = apiary_cov_map_var(&x->side_cov, side, name, &sz);

	return sz == size ? p : NULL;
}

/* Where every object keeps its write flags, and the sidecar's epoch. */
static int find_writers(struct apiary_rt_exec *x)
{
	struct bpf_object *side = apiary_rt_sidecar_object(x->rt);
	int err = 0;

	if (side) {
		err = note_writers(x, side, &x->side_cov, true);
		x->flow_epoch = sidecar_var(x, side, "apiary_flow_epoch", sizeof(uint32_t));
		x->flow_created = sidecar_var(x, side, "apiary_flow_created", sizeof(uint64_t));
		if (x->flow_created)
			x->created_at_purge = *x->flow_created;
	}
	for (size_t e = 0; !err && e < x->spec->nenforcers && e < APIARY_MAX_ENFORCERS; e++)
		for (int v = 0; !err && v < APIARY_NVSLOTS; v++) {
			struct bpf_object *obj = apiary_rt_object(x->rt, (int)e, v);

			if (obj)
				err = note_writers(x, obj, &x->cov[e][v], false);
		}
	return err;
}

int apiary_rt_exec_open(const struct apiary_spec *spec, struct apiary_rt *rt,
			const struct apiary_rt_exec_opts *opts, struct apiary_rt_exec **out,
			struct apiary_diags *d)
{
	struct apiary_rt_exec *x;
	int err;

	*out = NULL;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->spec = spec;
	x->rt = rt;
	x->side_cov.fd = -1;
	if (opts)
		memcpy(&x->opts, opts, opts->sz < sizeof(x->opts) ? opts->sz : sizeof(x->opts));
	err = enumerate_orderings(x);
	if (err) {
		apiary_error(d, NULL, "fuzz: cannot enumerate the bundle's orderings: %s",
			     strerror(-err));
		goto out;
	}
	err = apiary_rt_snapshot(rt, &x->snap0);
	if (err) {
		apiary_error(d, NULL, "fuzz: cannot snapshot the bundle's state: %s", strerror(-err));
		goto out;
	}
	x->nmaps = apiary_rt_nmaps(rt);
	x->maps = calloc(x->nmaps ? x->nmaps : 1, sizeof(*x->maps));
	if (!x->maps) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < x->nmaps && !err; i++)
		err = xmap_open(x, i, &x->maps[i]);
	if (err) {
		apiary_error(d, NULL, "fuzz: cannot prepare the state reset: %s", strerror(-err));
		goto out;
	}

	/* counters: the sidecar's and every loaded program's */
	err = apiary_cov_map_open(apiary_rt_sidecar_object(rt), &x->side_cov);
	if (err && err != -ENOENT) {
		apiary_error(d, NULL, "fuzz: cannot map the sidecar's counters: %s", strerror(-err));
		goto out;
	}
	err = 0;
	for (size_t e = 0; e < spec->nenforcers && e < APIARY_MAX_ENFORCERS; e++) {
		for (int v = 0; v < APIARY_NVSLOTS; v++) {
			struct bpf_object *obj = apiary_rt_object(rt, (int)e, v);
			int r;

			x->cov[e][v].fd = -1;
			if (!obj)
				continue;
			if (v == 1)
				x->has_update[e] = true;
			r = apiary_cov_map_open(obj, &x->cov[e][v]);
			if (r == -ENOENT) {
				x->has_uncovered = true;
			} else if (r) {
				err = apiary_error(d, NULL, "fuzz: cannot map the counters of %s: %s",
						   spec->enforcers[e].name.s, strerror(-r));
				goto out;
			}
		}
	}
	err = find_writers(x);
	if (err) {
		apiary_error(d, NULL, "fuzz: cannot find the maps' write flags: %s", strerror(-err));
		goto out;
	}
	x->need_trace = x->has_uncovered || x->opts.no_counters || x->opts.trace;
	x->classifier_hook = spec->classifier ? (int)spec->classifier->hook : APIARY_HOOK_NONE;
out:
	if (err) {
		apiary_rt_exec_free(x);
		return err;
	}
	*out = x;
	return 0;
}

void apiary_rt_exec_free(struct apiary_rt_exec *x)
{
	if (!x)
		return;
	for (int h = 0; h < APIARY_NHOOKS; h++)
		free(x->perms[h]);
	for (size_t i = 0; x->maps && i < x->nmaps; i++)
		xmap_close(&x->maps[i]);
	free(x->maps);
	apiary_cov_map_close(&x->side_cov);
	for (size_t e = 0; e < APIARY_MAX_ENFORCERS; e++)
		for (int v = 0; v < APIARY_NVSLOTS; v++)
			if (x->cov[e][v].mem)
				apiary_cov_map_close(&x->cov[e][v]);
	apiary_snapshot_free(x->snap0);
	free(x);
}

void apiary_rt_exec_executor(struct apiary_rt_exec *x, struct apiary_executor *ex)
{
	*ex = (struct apiary_executor){ .name = "runtime", .ctx = x,
					.reset = x->opts.no_reset ? NULL : exec_reset,
					.run = exec_run,
					.has_uncovered = x->has_uncovered || x->opts.no_counters };
}

int apiary_rt_exec_attach(struct apiary_rt_exec *x, struct apiary_harness *h)
{
	long off;

	if (x->opts.no_counters)
		return 0;
	if (x->side_cov.ncounters) {
		off = apiary_harness_add_counters(h, x->side_cov.counters, x->side_cov.ncounters);
		if (off < 0)
			return (int)off;
	}
	for (size_t e = 0; e < APIARY_MAX_ENFORCERS; e++) {
		for (int v = 0; v < APIARY_NVSLOTS; v++) {
			if (!x->cov[e][v].ncounters)
				continue;
			off = apiary_harness_add_counters(h, x->cov[e][v].counters,
							  x->cov[e][v].ncounters);
			if (off < 0)
				return (int)off;
		}
	}
	return 0;
}

uint32_t apiary_rt_exec_counters(const struct apiary_rt_exec *x, int enforcer, int vslot)
{
	if (enforcer < 0)
		return x->side_cov.ncounters;
	if (enforcer >= APIARY_MAX_ENFORCERS || vslot < 0 || vslot >= APIARY_NVSLOTS)
		return 0;
	return x->cov[enforcer][vslot].ncounters;
}

/* Chains and routes in the kernel are not what x last wrote. */
static void forget_chains_and_routes(struct apiary_rt_exec *x)
{
	for (int h = 0; h < APIARY_NHOOKS; h++)
		x->cur_perm[h] = -1;
	x->routes_flipped = true; /* written back at the next reset */
}

void apiary_rt_exec_forget(struct apiary_rt_exec *x)
{
	forget_chains_and_routes(x);
	for (size_t i = 0; i < x->nmaps; i++)
		if (!x->maps[i].mem)
			xmap_record(&x->maps[i]);
}

uint64_t apiary_rt_exec_slow_resets(const struct apiary_rt_exec *x)
{
	return x->slow_resets;
}

int apiary_rt_exec_reset(struct apiary_rt_exec *x)
{
	return reset_state(x, true);
}

uint64_t apiary_rt_exec_refused(const struct apiary_rt_exec *x)
{
	return x->refused;
}

uint64_t apiary_rt_exec_runs(const struct apiary_rt_exec *x)
{
	return x->runs;
}

uint64_t apiary_rt_exec_skipped_hooks(const struct apiary_rt_exec *x)
{
	return x->skipped_hooks;
}

uint64_t apiary_rt_exec_maps_read(const struct apiary_rt_exec *x)
{
	return x->maps_read;
}

int64_t apiary_rt_exec_flow_epoch(const struct apiary_rt_exec *x)
{
	return x->flow_epoch ? (int64_t)*x->flow_epoch : -1;
}

void apiary_rt_exec_new_process(struct apiary_rt_exec *x)
{
	forget_chains_and_routes(x);
	x->created_at_purge = 0; /* at worst the next reset empties the table for real */
}
