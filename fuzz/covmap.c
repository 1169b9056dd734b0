// SPDX-License-Identifier: MIT
/*
 * Reading in-kernel coverage counters of a loaded object (coverage.h
 * describes how they get there). The counters live in the value of the
 * ".data.apiary_cov" array map; libbpf created it BPF_F_MMAPABLE because
 * the section holds a global with BTF, so one mmap gives user space the
 * live counters: zero them before a run, read them after, no syscalls.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "apiary/coverage.h"
#include "apiary/fuzz.h"

/* Offset and size of variable `var` in datasec `sec`, from the object's
 * BTF as libbpf fixed it up at open (offsets from the ELF symbols). */
static int datasec_var(const struct btf *btf, const char *sec, const char *var, uint32_t *off,
		       uint32_t *size)
{
	const struct btf_type *t;
	const struct btf_var_secinfo *vs;
	int id = btf__find_by_name_kind(btf, sec, BTF_KIND_DATASEC);

	if (id < 0)
		return -ENOENT;
	t = btf__type_by_id(btf, id);
	vs = btf_var_secinfos(t);
	for (int i = 0; i < btf_vlen(t); i++, vs++) {
		const struct btf_type *v = btf__type_by_id(btf, vs->type);

		if (v && strcmp(btf__name_by_offset(btf, v->name_off), var) == 0) {
			*off = vs->offset;
			*size = vs->size;
			return 0;
		}
	}
	return -ENOENT;
}

/*
 * Fill in the map write flags of an open coverage map, if the object has
 * them (objects built before the flags existed have not: nwrites stays 0,
 * which callers read as "every map may have been written"). A module
 * without maps has the one "some map" flag and no names variable. The names
 * blob is checked to hold exactly one '\0'-terminated name per listed map,
 * so apiary_cov_map_write_index() never reads past it.
 */
static void open_write_flags(const struct btf *btf, size_t vsz, struct apiary_cov_map *m)
{
	uint32_t woff, wsize, noff, nsize, names = 0;
	const char *blob;

	if (datasec_var(btf, APIARY_COV_SECTION, APIARY_COV_WRITES, &woff, &wsize))
		return;
	/* no maps: the pass emits no names (BTF has no zero-sized variables) */
	if (datasec_var(btf, APIARY_COV_SECTION, APIARY_COV_WNAMES, &noff, &nsize)) {
		if (wsize != 1)
			return;
		noff = woff;
		nsize = 0;
	}
	if (wsize == 0 || (size_t)woff + wsize > vsz || (size_t)noff + nsize > vsz)
		return;
	blob = (const char *)m->mem + noff;
	if (nsize && blob[nsize - 1] != '\0')
		return;
	for (uint32_t i = 0; i < nsize; i++)
		names += blob[i] == '\0';
	if (names != wsize - 1)
		return;
	m->writes = (volatile uint8_t *)m->mem + woff;
	m->nwrites = wsize;
	m->wnames = blob;
	m->wnames_len = nsize;
}

int apiary_cov_map_open(struct bpf_object *obj, struct apiary_cov_map *m)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, APIARY_COV_SECTION);
	const struct btf *btf = bpf_object__btf(obj);
	long page = sysconf(_SC_PAGESIZE);
	uint32_t off = 0, size = 0;
	size_t vsz;
	int err;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (!map || !btf)
		return -ENOENT;
	err = datasec_var(btf, APIARY_COV_SECTION, APIARY_COV_COUNTERS, &off, &size);
	if (err)
		return err;
	if (!(bpf_map__map_flags(map) & BPF_F_MMAPABLE))
		return -EOPNOTSUPP;
	m->fd = bpf_map__fd(map);
	if (m->fd < 0)
		return -EBADF; /* not loaded yet */
	vsz = bpf_map__value_size(map);
	if ((size_t)off + size > vsz)
		return -EINVAL;
	m->mem_len = (vsz + (size_t)page - 1) / (size_t)page * (size_t)page;
	m->mem = mmap(NULL, m->mem_len, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
	if (m->mem == MAP_FAILED) {
		err = -errno;
		m->mem = NULL;
		return err;
	}
	m->counters = (volatile uint8_t *)m->mem + off;
	m->ncounters = size;
	m->name = bpf_map__name(map);
	open_write_flags(btf, vsz, m);
	return 0;
}

/* Index of the write flag of map_name: its position among the listed
 * names (the pass sorted them and numbered the flags the same way). */
int apiary_cov_map_write_index(const struct apiary_cov_map *m, const char *map_name)
{
	const char *p, *end;
	int i = 0;

	if (!m || !m->nwrites || !map_name)
		return -ENOENT;
	p = m->wnames;
	end = m->wnames + m->wnames_len;
	for (; p < end && (uint32_t)i < m->nwrites - 1; i++) {
		size_t len = strnlen(p, (size_t)(end - p));

		if (strcmp(p, map_name) == 0)
			return i;
		p += len + 1;
	}
	return -ENOENT;
}

void apiary_cov_map_close(struct apiary_cov_map *m)
{
	if (m->mem)
		munmap(m->mem, m->mem_len);
	memset(m, 0, sizeof(*m));
	m->fd = -1;
}

/* Address and size of another variable of the coverage section (e.g. the
 * sidecar's flow epoch) in the mapped value, or NULL if it has none. */
volatile void *apiary_cov_map_var(const struct apiary_cov_map *m, struct bpf_object *obj,
				  const char *var, uint32_t *size)
{
	const struct btf *btf = bpf_object__btf(obj);
	uint32_t off = 0, sz = 0;

	if (!m->mem || !btf || datasec_var(btf, APIARY_COV_SECTION, var, &off, &sz) ||
	    (size_t)off + sz > m->mem_len)
		return NULL;
	if (size)
		*size = sz;
	return (volatile uint8_t *)m->mem + off;
}
