// SPDX-License-Identifier: MIT
/*
 * Bundle state: snapshot, restore and diff of every state map. Maps are
 * dumped with bpf_map_lookup_batch where the kernel supports it (a
 * get_next_key loop is ~7x slower), entries kept sorted by key bytes so two
 * snapshots compare with one merge. Restore writes only what differs from
 * the snapshot, so putting back a few changes is cheap.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "apiary/runtime.h"
#include "rt_internal.h"

struct snap_map {
	uint32_t ksz;
	size_t vsz;
	size_t n, cap;
	uint8_t *keys; /* n * ksz, sorted by memcmp */
	uint8_t *vals; /* n * vsz */
};

struct apiary_snapshot {
	size_t nmaps;
	struct snap_map *maps;
};

/* Room for cap more entries. */
static int snap_reserve(struct snap_map *s, size_t more)
{
	size_t want = s->n + more, ncap;
	uint8_t *k, *v;

	if (want <= s->cap)
		return 0;
	ncap = s->cap ? s->cap : 64;
	while (ncap < want)
		ncap *= 2;
	k = realloc(s->keys, ncap * (s->ksz ? s->ksz : 1));
	if (!k)
		return -ENOMEM;
	s->keys = k;
	v = realloc(s->vals, ncap * (s->vsz ? s->vsz : 1));
	if (!v)
		return -ENOMEM;
	s->vals = v;
	s->cap = ncap;
	return 0;
}

/* Dump with batch lookups. -ENOTSUP (or EINVAL on the first call) means the
 * map type has no batch ops: the caller falls back. */
static int dump_batch(const struct rt_map *m, struct snap_map *s)
{
	size_t chunk = m->max_entries < 4096 ? (m->max_entries ? m->max_entries : 1) : 4096;
	uint8_t *in = NULL, *outb = NULL;
	size_t tok = m->key_size > 8 ? m->key_size : 8;
	bool first = true;
	int err = 0;

	in = calloc(1, tok);
	outb = calloc(1, tok);
	if (!in || !outb) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		uint32_t count = (uint32_t)chunk;
		int r;

		err = snap_reserve(s, chunk);
		if (err)
			goto out;
		r = bpf_map_lookup_batch(m->fd, first ? NULL : in, outb, s->keys + s->n * s->ksz,
					 s->vals + s->n * s->vsz, &count, NULL);
		if (r && errno != ENOENT) {
			if (errno == ENOSPC && chunk < (1u << 20)) {
				/* A hash bucket bigger than the chunk. */
				chunk *= 2;
				continue;
			}
			err = -errno;
			if (first && (err == -EINVAL || err == -ENOTSUP || err == -EOPNOTSUPP))
				err = -ENOTSUP;
			goto out;
		}
		s->n += count;
		if (r)
			break; /* ENOENT: that was the last batch */
		memcpy(in, outb, tok);
		first = false;
	}
out:
	free(in);
	free(outb);
	return err;
}

/* Dump with a get_next_key loop (any map type we handle). */
static int dump_loop(const struct rt_map *m, struct snap_map *s)
{
	uint8_t *prev = NULL, *key = NULL;
	bool first = true;
	int err = 0;

	prev = calloc(1, m->key_size ? m->key_size : 1);
	key = calloc(1, m->key_size ? m->key_size : 1);
	if (!prev || !key) {
		err = -ENOMEM;
		goto out;
	}
	while (!bpf_map_get_next_key(m->fd, first ? NULL : prev, key)) {
		first = false;
		err = snap_reserve(s, 1);
		if (err)
			goto out;
		if (bpf_map_lookup_elem(m->fd, key, s->vals + s->n * s->vsz)) {
			if (errno == ENOENT) { /* deleted meanwhile */
				memcpy(prev, key, m->key_size);
				continue;
			}
			err = -errno;
			goto out;
		}
		memcpy(s->keys + s->n * s->ksz, key, m->key_size);
		s->n++;
		memcpy(prev, key, m->key_size);
	}
	if (errno != ENOENT)
		err = -errno;
out:
	free(prev);
	free(key);
	return err;
}

/* Order of two entry indexes by their key bytes (qsort_r: no globals). */
static int cmp_idx(const void *a, const void *b, void *arg)
{
	const struct snap_map *s = arg;
	size_t ia = *(const size_t *)a, ib = *(const size_t *)b;

	return memcmp(s->keys + ia * s->ksz, s->keys + ib * s->ksz, s->ksz);
}

/* Sort entries by key bytes (a permutation, then one gather). */
static int snap_sort(struct snap_map *s)
{
	size_t *idx, i;
	uint8_t *k, *v;
	bool sorted = true;

	for (i = 1; i < s->n && sorted; i++)
		if (memcmp(s->keys + (i - 1) * s->ksz, s->keys + i * s->ksz, s->ksz) > 0)
			sorted = false;
	if (sorted)
		return 0;
	idx = malloc(s->n * sizeof(*idx));
	k = malloc(s->n * s->ksz);
	v = malloc(s->n * (s->vsz ? s->vsz : 1));
	if (!idx || !k || !v) {
		free(idx);
		free(k);
		free(v);
		return -ENOMEM;
	}
	for (i = 0; i < s->n; i++)
		idx[i] = i;
	qsort_r(idx, s->n, sizeof(*idx), cmp_idx, s);
	for (i = 0; i < s->n; i++) {
		memcpy(k + i * s->ksz, s->keys + idx[i] * s->ksz, s->ksz);
		memcpy(v + i * s->vsz, s->vals + idx[i] * s->vsz, s->vsz);
	}
	free(idx);
	free(s->keys);
	free(s->vals);
	s->keys = k;
	s->vals = v;
	s->cap = s->n;
	return 0;
}

/* One map into s. */
static int dump_map(const struct rt_map *m, struct snap_map *s)
{
	int err;

	s->ksz = m->key_size;
	s->vsz = m->vsize;
	err = m->type == BPF_MAP_TYPE_LPM_TRIE ? -ENOTSUP : dump_batch(m, s);
	if (err == -ENOTSUP) {
		s->n = 0;
		err = dump_loop(m, s);
	}
	return err ?: snap_sort(s);
}

void apiary_snapshot_free(struct apiary_snapshot *snap)
{
	size_t i;

	if (!snap)
		return;
	for (i = 0; i < snap->nmaps; i++) {
		free(snap->maps[i].keys);
		free(snap->maps[i].vals);
	}
	free(snap->maps);
	free(snap);
}

int apiary_rt_snapshot(struct apiary_rt *rt, struct apiary_snapshot **out)
{
	struct apiary_snapshot *s;
	size_t i;
	int err = 0;

	*out = NULL;
	if (!rt)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->maps = calloc(rt->nmaps ? rt->nmaps : 1, sizeof(*s->maps));
	if (!s->maps) {
		free(s);
		return -ENOMEM;
	}
	s->nmaps = rt->nmaps;
	for (i = 0; i < rt->nmaps && !err; i++)
		err = dump_map(&rt->maps[i], &s->maps[i]);
	if (err) {
		apiary_snapshot_free(s);
		return err;
	}
	*out = s;
	return 0;
}

/* Walk two sorted entry lists of one map together: cb gets each key present
 * in either with its value in a and in b (NULL where absent), skipping keys
 * whose values are equal. */
typedef int (*merge_cb)(void *arg, size_t map, const struct snap_map *sm, const uint8_t *key,
			const uint8_t *va, const uint8_t *vb);

static int merge(size_t map, const struct snap_map *a, const struct snap_map *b, merge_cb cb,
		 void *arg)
{
	size_t i = 0, j = 0;
	int err = 0;

	while (!err && (i < a->n || j < b->n)) {
		int c;

		if (i == a->n)
			c = 1;
		else if (j == b->n)
			c = -1;
		else
			c = memcmp(a->keys + i * a->ksz, b->keys + j * b->ksz, a->ksz);
		if (c < 0) {
			err = cb(arg, map, a, a->keys + i * a->ksz, a->vals + i * a->vsz, NULL);
			i++;
		} else if (c > 0) {
			err = cb(arg, map, a, b->keys + j * b->ksz, NULL, b->vals + j * b->vsz);
			j++;
		} else {
			if (memcmp(a->vals + i * a->vsz, b->vals + j * b->vsz, a->vsz))
				err = cb(arg, map, a, a->keys + i * a->ksz, a->vals + i * a->vsz,
					 b->vals + j * b->vsz);
			i++;
			j++;
		}
	}
	return err;
}

/* What restore must write back into one map: entries to update (key and
 * value) and keys to delete, applied in batches. */
struct restore_arg {
	struct snap_map upd; /* keys + values to write */
	struct snap_map del; /* keys to delete (vsz 0) */
};

/* Collect one entry: cur = now in the map, want = in the snapshot. */
static int restore_one(void *arg, size_t map, const struct snap_map *sm, const uint8_t *key,
		       const uint8_t *cur, const uint8_t *want)
{
	struct restore_arg *ra = arg;
	struct snap_map *t = want ? &ra->upd : &ra->del;
	int err = snap_reserve(t, 1);

	if (err)
		return err;
	memcpy(t->keys + t->n * t->ksz, key, t->ksz);
	if (want)
		memcpy(t->vals + t->n * t->vsz, want, t->vsz);
	t->n++;
	return 0;
}

/* Write the collected entries: update_batch/delete_batch where the map
 * type has them (hash maps), element by element otherwise. */
static int restore_apply(const struct rt_map *m, const struct restore_arg *ra)
{
	uint32_t count;
	size_t i;

	if (ra->del.n) {
		count = (uint32_t)ra->del.n;
		if (m->type == BPF_MAP_TYPE_ARRAY || m->type == BPF_MAP_TYPE_PERCPU_ARRAY ||
		    bpf_map_delete_batch(m->fd, ra->del.keys, &count, NULL)) {
			for (i = 0; i < ra->del.n; i++)
				if (bpf_map_delete_elem(m->fd, ra->del.keys + i * ra->del.ksz) &&
				    errno != ENOENT)
					return -errno;
		}
	}
	if (ra->upd.n) {
		count = (uint32_t)ra->upd.n;
		if (m->type == BPF_MAP_TYPE_LPM_TRIE ||
		    bpf_map_update_batch(m->fd, ra->upd.keys, ra->upd.vals, &count, NULL)) {
			for (i = 0; i < ra->upd.n; i++)
				if (bpf_map_update_elem(m->fd, ra->upd.keys + i * ra->upd.ksz,
							ra->upd.vals + i * ra->upd.vsz, BPF_ANY))
					return -errno;
		}
	}
	return 0;
}

int apiary_rt_restore(struct apiary_rt *rt, const struct apiary_snapshot *snap)
{
	struct apiary_snapshot *cur = NULL;
	size_t i;
	int err;

	if (!rt || !snap || snap->nmaps != rt->nmaps)
		return -EINVAL;
	err = apiary_rt_snapshot(rt, &cur);
	for (i = 0; !err && i < rt->nmaps; i++) {
		struct restore_arg ra;

		if (snap->maps[i].ksz != cur->maps[i].ksz || snap->maps[i].vsz != cur->maps[i].vsz) {
			err = -EINVAL;
			break;
		}
		memset(&ra, 0, sizeof(ra));
		ra.upd.ksz = ra.del.ksz = snap->maps[i].ksz;
		ra.upd.vsz = snap->maps[i].vsz;
		err = merge(i, &cur->maps[i], &snap->maps[i], restore_one, &ra);
		if (!err)
			err = restore_apply(&rt->maps[i], &ra);
		free(ra.upd.keys);
		free(ra.upd.vals);
		free(ra.del.keys);
		free(ra.del.vals);
	}
	apiary_snapshot_free(cur);
	return err;
}

/* Append one change to a delta (copies of key and values). */
static int diff_one(void *arg, size_t map, const struct snap_map *sm, const uint8_t *key,
		    const uint8_t *before, const uint8_t *after)
{
	struct apiary_delta *d = arg;
	struct apiary_map_change *c, *nc;

	nc = realloc(d->changes, (d->n + 1) * sizeof(*nc));
	if (!nc)
		return -ENOMEM;
	d->changes = nc;
	c = &d->changes[d->n];
	memset(c, 0, sizeof(*c));
	c->map = map;
	c->key_size = sm->ksz;
	c->value_size = (uint32_t)sm->vsz;
	c->key = malloc(sm->ksz ? sm->ksz : 1);
	if (!c->key)
		return -ENOMEM;
	memcpy(c->key, key, sm->ksz);
	d->n++; /* counted now so apiary_delta_free releases it on error */
	if (before) {
		c->before = malloc(sm->vsz ? sm->vsz : 1);
		if (!c->before)
			return -ENOMEM;
		memcpy(c->before, before, sm->vsz);
	}
	if (after) {
		c->after = malloc(sm->vsz ? sm->vsz : 1);
		if (!c->after)
			return -ENOMEM;
		memcpy(c->after, after, sm->vsz);
	}
	return 0;
}

int apiary_snapshot_diff(const struct apiary_snapshot *a, const struct apiary_snapshot *b,
			 struct apiary_delta *out)
{
	size_t i;
	int err = 0;

	memset(out, 0, sizeof(*out));
	if (!a || !b || a->nmaps != b->nmaps)
		return -EINVAL;
	for (i = 0; !err && i < a->nmaps; i++) {
		if (a->maps[i].ksz != b->maps[i].ksz || a->maps[i].vsz != b->maps[i].vsz)
			err = -EINVAL;
		else
			err = merge(i, &a->maps[i], &b->maps[i], diff_one, out);
	}
	if (err)
		apiary_delta_free(out);
	return err;
}

/* Equal bytes or both absent. */
static bool same_bytes(const uint8_t *x, const uint8_t *y, size_t n)
{
	if (!x || !y)
		return x == y;
	return !memcmp(x, y, n);
}

bool apiary_delta_equal(const struct apiary_delta *a, const struct apiary_delta *b)
{
	size_t i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++) {
		const struct apiary_map_change *x = &a->changes[i], *y = &b->changes[i];

		if (x->map != y->map || x->key_size != y->key_size ||
		    x->value_size != y->value_size || !same_bytes(x->key, y->key, x->key_size) ||
		    !same_bytes(x->before, y->before, x->value_size) ||
		    !same_bytes(x->after, y->after, x->value_size))
			return false;
	}
	return true;
}

void apiary_delta_free(struct apiary_delta *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->n; i++) {
		free(d->changes[i].key);
		free(d->changes[i].before);
		free(d->changes[i].after);
	}
	free(d->changes);
	d->changes = NULL;
	d->n = 0;
}
