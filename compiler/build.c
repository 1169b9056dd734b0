// SPDX-License-Identifier: MIT
/*
 * The build driver (compiler.h): generate the bundle's C, run clang, the IR
 * pass and llc on it, find prebuilt programs, hash everything and describe
 * the result in apiary.json.
 *
 * Tools are spawned with an argv (never a shell), from out_dir as working
 * directory so the debug info in the objects does not depend on where the
 * caller stands: the same inputs give the same object bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include "apiary/abi.h"
#include "apiary/compiler.h"
#include "apiary/coverage.h"
#include "codegen.h"
#include "irpass.h"

#ifndef APIARY_INCLUDE_DIR
#error "APIARY_INCLUDE_DIR must point at the include/ folder (set by meson)"
#endif
#ifndef APIARY_BPF_MULTIARCH
#define APIARY_BPF_MULTIARCH "/usr/include/x86_64-linux-gnu"
#endif

extern char **environ;

struct ctx {
	const struct apiary_spec *spec;
	const struct apiary_build_opts *opts;
	struct apiary_build *b;
	struct apiary_diags *d;
	const char *clang;
	const char *llc;
};

static char *path_join(const char *dir, const char *name)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return NULL;
	return p;
}

/* mkdir -p */
static int make_dirs(const char *path)
{
	char *tmp = strdup(path);
	int err = 0;

	if (!tmp)
		return -ENOMEM;
	for (char *p = tmp + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			if (mkdir(tmp, 0755) && errno != EEXIST) {
				err = -errno;
				break;
			}
			*p = c;
			if (!c)
				break;
		}
	}
	free(tmp);
	return err;
}

/* Run argv[0] (found on PATH) in `cwd` with stdout and stderr captured into
 * *output (malloc'd, NUL-terminated). Returns the exit status (0..255),
 * 256 + signal if killed, or a negative errno if it could not start. */
static int run_tool(char *const argv[], const char *cwd, char **output)
{
	posix_spawn_file_actions_t fa;
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	int pipefd[2] = { -1, -1 };
	int status = 0, err;
	pid_t pid;

	*output = NULL;
	if (!buf)
		return -ENOMEM;
	if (pipe2(pipefd, O_CLOEXEC)) {
		free(buf);
		return -errno;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
	if (cwd)
		posix_spawn_file_actions_addchdir_np(&fa, cwd);
	err = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (err) {
		close(pipefd[0]);
		free(buf);
		return -err;
	}
	for (;;) {
		ssize_t n;

		if (len + 1024 > cap) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				break; /* keep draining into what we have */
			buf = nb;
			cap *= 2;
		}
		n = read(pipefd[0], buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			free(buf);
			return -errno;
		}
	}
	*output = buf;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 256 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* Run a tool; on failure one error naming `who` with the tool's own output
 * (clang's file:line:col messages) as detail. */
static int run_step(struct ctx *c, const struct apiary_loc *loc, const char *who,
		    const char *what, char *const argv[])
{
	char *out = NULL;
	int rc = run_tool(argv, c->b->out_dir, &out);
	int err = 0;

	if (rc < 0) {
		err = apiary_error(c->d, loc, "%s: cannot run %s: %s", who, argv[0], strerror(-rc));
	} else if (rc != 0) {
		err = apiary_error(c->d, loc, "%s: %s failed (%s exit status %d)", who, what,
				   argv[0], rc);
		if (out && *out)
			apiary_diag_set_detail(c->d, out);
	}
	free(out);
	return err;
}

static int sha256_file(const char *path, uint8_t out[32])
{
	unsigned char buf[65536];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	FILE *f = fopen(path, "rb");
	unsigned int len = 32;
	int err = 0;
	size_t n;

	if (!md || !f) {
		err = f ? -ENOMEM : -errno;
		goto out;
	}
	if (!EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		err = -EIO;
		goto out;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		EVP_DigestUpdate(md, buf, n);
	if (ferror(f) || !EVP_DigestFinal_ex(md, out, &len))
		err = -EIO;
out:
	if (f)
		fclose(f);
	EVP_MD_CTX_free(md);
	return err;
}

static void hex32(char out[65], const uint8_t h[32])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		out[2 * i] = digits[h[i] >> 4];
		out[2 * i + 1] = digits[h[i] & 15];
	}
	out[64] = '\0';
}

/* Write one generated file through its generator. */
static int write_generated(struct ctx *c, const char *name,
			   int (*gen)(FILE *, const struct apiary_spec *, const void *,
				      struct apiary_diags *),
			   const void *arg, char **path_out)
{
	char *path = path_join(c->b->out_dir, name);
	FILE *f;
	int err;

	if (!path)
		return -ENOMEM;
	f = fopen(path, "w");
	if (!f) {
		err = apiary_error(c->d, NULL, "cannot write %s: %s", path, strerror(errno));
		free(path);
		return err;
	}
	err = gen(f, c->spec, arg, c->d);
	if (fclose(f) && !err)
		err = apiary_error(c->d, NULL, "cannot write %s: %s", path, strerror(errno));
	if (err || !path_out)
		free(path);
	else
		*path_out = path;
	return err;
}

static int gen_bundle_h(FILE *f, const struct apiary_spec *s, const void *arg,
			struct apiary_diags *d)
{
	return apiary_gen_bundle_h(f, s, d);
}

static int gen_sidecar(FILE *f, const struct apiary_spec *s, const void *arg,
		       struct apiary_diags *d)
{
	return apiary_gen_sidecar(f, s, d);
}

static int gen_wrapper(FILE *f, const struct apiary_spec *s, const void *arg,
		       struct apiary_diags *d)
{
	return apiary_gen_wrapper(f, s, arg, d);
}

/* clang -target bpf ... -c src -o out (IR with -emit-llvm). src_dir: the
 * directory of the enforcer's own source, if any. */
static int run_clang(struct ctx *c, const struct apiary_loc *loc, const char *who,
		     const char *src, const char *src_dir, const char *out, bool emit_llvm)
{
	char *inc = NULL, *outinc = NULL, *maps[3] = { NULL, NULL, NULL };
	int err = -ENOMEM;

	/* Where the build, the headers and the sources happen to be (a fresh
	 * temporary directory, another checkout) must not reach the objects'
	 * debug info: the bundle hash would differ from place to place. */
	if (asprintf(&inc, "-I%s", APIARY_INCLUDE_DIR) < 0 ||
	    asprintf(&outinc, "-I%s", c->b->out_dir) < 0 ||
	    asprintf(&maps[0], "-fdebug-prefix-map=%s=/apiary-build", c->b->out_dir) < 0 ||
	    asprintf(&maps[1], "-fdebug-prefix-map=%s=/apiary-include", APIARY_INCLUDE_DIR) < 0 ||
	    (src_dir && asprintf(&maps[2], "-fdebug-prefix-map=%s=/apiary-src", src_dir) < 0))
		goto out;
	{
		char *argv[24];
		int n = 0;

		argv[n++] = (char *)c->clang;
		argv[n++] = "-target";
		argv[n++] = "bpf";
		argv[n++] = "-O2";
		argv[n++] = "-g";
		/* DWARF 5 line tables carry an MD5 of each file, and the wrapper's
		 * text names the source by its absolute path */
		argv[n++] = "-gdwarf-4";
		argv[n++] = "-fno-color-diagnostics";
		for (int i = 0; i < 3; i++)
			if (maps[i])
				argv[n++] = maps[i];
		argv[n++] = "-I" APIARY_BPF_MULTIARCH;
		argv[n++] = inc;
		argv[n++] = outinc;
		if (emit_llvm)
			argv[n++] = "-emit-llvm";
		/* Counters only where the IR pass runs: it makes them loadable. */
		if (emit_llvm && c->opts->coverage) {
			argv[n++] = APIARY_COV_CFLAGS;
			argv[n++] = "-DAPIARY_FUZZ_BUILD"; /* chain.h: the flow epoch */
		}
		argv[n++] = "-c";
		argv[n++] = (char *)src;
		argv[n++] = "-o";
		argv[n++] = (char *)out;
		argv[n] = NULL;
		err = run_step(c, loc, who, "compiling to BPF", argv);
	}
out:
	free(inc);
	free(outinc);
	for (int i = 0; i < 3; i++)
		free(maps[i]);
	return err;
}

static int run_llc(struct ctx *c, const struct apiary_loc *loc, const char *who,
		   const char *bc, const char *obj)
{
	char *argv[] = { (char *)c->llc, "-march=bpf", "-filetype=obj", "-O2", (char *)bc,
			 "-o", (char *)obj, NULL };

	return run_step(c, loc, who, "emitting the object", argv);
}

/* Find the program of a prebuilt object: by name if the spec gives one,
 * else the single program whose section fits the hook. Opens (never loads)
 * the object with libbpf. */
static int find_opaque_program(struct ctx *c, const struct apiary_enforcer *en,
			       const struct apiary_code *code, enum apiary_hook hook,
			       char **prog_name)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo);
	struct bpf_object *obj;
	struct bpf_program *prog, *found = NULL;
	int n = 0, err = 0;

	libbpf_print_fn_t old_print;
	char why[128];

	/* libbpf would print its own complaint to stderr: the diagnostic below
	 * says it, at the spec's location */
	old_print = libbpf_set_print(NULL);
	obj = bpf_object__open_file(code->resolved, &oo);
	err = obj ? 0 : -errno;
	libbpf_set_print(old_print);
	if (!obj) {
		libbpf_strerror(err, why, sizeof(why));
		return apiary_error(c->d, &code->path.loc,
				    "enforcer %s: cannot open BPF object %s: %s", en->name.s,
				    code->resolved, why);
	}
	if (code->program.s) {
		found = bpf_object__find_program_by_name(obj, code->program.s);
		if (!found)
			err = apiary_error(c->d, &code->program.loc,
					   "enforcer %s: object %s has no program '%s'", en->name.s,
					   code->path.s, code->program.s);
	} else {
		bpf_object__for_each_program(prog, obj) {
			if (apiary_irpass_section_fits(bpf_program__section_name(prog), hook)) {
				found = prog;
				n++;
			}
		}
		if (n != 1) {
			err = apiary_error(c->d, &code->path.loc,
					   "enforcer %s: object %s has %d programs for %s; name "
					   "one with `program \"...\"`",
					   en->name.s, code->path.s, n, apiary_hook_name(hook));
			found = NULL;
		}
	}
	if (found && !apiary_irpass_section_fits(bpf_program__section_name(found), hook)) {
		err = apiary_error(c->d, code->program.s ? &code->program.loc : &code->path.loc,
				   "enforcer %s: program '%s' is in section \"%s\", not a %s "
				   "program",
				   en->name.s, bpf_program__name(found),
				   bpf_program__section_name(found), apiary_hook_name(hook));
		found = NULL;
	}
	if (found) {
		*prog_name = strdup(bpf_program__name(found));
		if (!*prog_name)
			err = -ENOMEM;
	}
	bpf_object__close(obj);
	return err;
}

/* Generate, compile, transform and emit one source enforcer version. */
static int build_source(struct ctx *c, struct apiary_build_prog *bp,
			const struct apiary_enforcer *en, const struct apiary_code *code)
{
	char base[300], id[128], who[200], src_name[320];
	char *src_abs = NULL, *src_dir = NULL, *cfile = NULL, *bc = NULL, *obj = NULL;
	struct apiary_gen_prog gp;
	struct apiary_irpass_opts io;
	int err;

	snprintf(who, sizeof(who), "enforcer %s", en->name.s);
	apiary_gen_ident(id, sizeof(id), en->name.s, 0);
	snprintf(base, sizeof(base), "enf_%s_v%u", id, bp->version);

	src_abs = realpath(code->resolved ? code->resolved : code->path.s, NULL);
	if (!src_abs)
		return apiary_error(c->d, &code->path.loc, "%s: cannot find source %s: %s", who,
				    code->resolved ? code->resolved : code->path.s,
				    strerror(errno));
	bp->source_path = src_abs;

	gp = (struct apiary_gen_prog){ .enforcer = bp->enforcer, .vslot = bp->vslot,
				       .version = bp->version, .hook = bp->hook, .code = code,
				       .source_abs = src_abs };
	snprintf(src_name, sizeof(src_name), "%s.c", base);
	err = write_generated(c, src_name, gen_wrapper, &gp, &cfile);
	if (err)
		goto out;
	if (asprintf(&bc, "%s/%s.bc", c->b->out_dir, base) < 0 ||
	    asprintf(&obj, "%s/%s.o", c->b->out_dir, base) < 0) {
		err = -ENOMEM;
		goto out;
	}
	src_dir = strdup(src_abs);
	if (!src_dir) {
		err = -ENOMEM;
		goto out;
	}
	err = run_clang(c, &code->path.loc, who, cfile, dirname(src_dir), bc, true);
	if (err)
		goto out;

	io = (struct apiary_irpass_opts){ .entry = code->program.s, .hook = bp->hook,
					  .placeholder = APIARY_ENTRY_PLACEHOLDER,
					  .skip_prefix = "apiary_w_", .who = who,
					  .coverage = c->opts->coverage };
	err = apiary_irpass_file(bc, bc, &io, &bp->entry_name, c->d);
	if (err)
		goto out;
	err = run_llc(c, &code->path.loc, who, bc, obj);
	if (err)
		goto out;
	if (asprintf(&bp->prog_name, "apiary_w_%s_v%u", id, bp->version) < 0) {
		bp->prog_name = NULL;
		err = -ENOMEM;
		goto out;
	}
	bp->object_path = obj;
	obj = NULL;
out:
	free(src_dir);
	free(cfile);
	free(bc);
	free(obj);
	return err;
}

/* The sidecar (dispatchers + classifier): straight to an object, or with
 * coverage through the same IR route as the enforcers (clang -emit-llvm,
 * the coverage pass, llc), so the classifier's branches count too. */
static int build_sidecar(struct ctx *c, const char *side_c)
{
	struct apiary_irpass_opts io = { .who = "sidecar", .coverage_only = true };
	char *bc = NULL;
	int err;

	if (!c->opts->coverage)
		return run_clang(c, NULL, "sidecar", side_c, NULL, c->b->sidecar_object, false);
	if (asprintf(&bc, "%s/sidecar.bc", c->b->out_dir) < 0)
		return -ENOMEM;
	err = run_clang(c, NULL, "sidecar", side_c, NULL, bc, true);
	err = err ?: apiary_irpass_file(bc, bc, &io, NULL, c->d);
	err = err ?: run_llc(c, NULL, "sidecar", bc, c->b->sidecar_object);
	free(bc);
	return err;
}

static int build_opaque(struct ctx *c, struct apiary_build_prog *bp,
			const struct apiary_enforcer *en, const struct apiary_code *code)
{
	const char *path = code->resolved ? code->resolved : code->path.s;
	int err;

	bp->object_path = realpath(path, NULL);
	if (!bp->object_path)
		return apiary_error(c->d, &code->path.loc, "enforcer %s: cannot find object %s: %s",
				    en->name.s, path, strerror(errno));
	err = find_opaque_program(c, en, code, bp->hook, &bp->prog_name);
	if (err)
		return err;
	bp->entry_name = strdup(bp->prog_name);
	return bp->entry_name ? 0 : -ENOMEM;
}

/* At most one prebuilt enforcer per hook: control never comes back from it,
 * so it has to end the chain. */
static int check_opaque_per_hook(struct ctx *c)
{
	const struct apiary_spec *s = c->spec;
	int first[APIARY_HOOK__COUNT];
	int err = 0;

	for (int h = 0; h < APIARY_HOOK__COUNT; h++)
		first[h] = -1;
	for (size_t e = 0; e < s->nenforcers; e++) {
		const struct apiary_enforcer *en = &s->enforcers[e];
		bool opaque = false;

		for (int v = 0; v < APIARY_NVSLOTS; v++) {
			const struct apiary_code *code = apiary_gen_code(s, (int)e, v, NULL);

			opaque |= code && code->prebuilt;
		}
		if (!opaque || en->hook <= APIARY_HOOK_NONE || en->hook >= APIARY_HOOK__COUNT)
			continue;
		if (first[en->hook] >= 0)
			err = apiary_error(c->d, &en->loc,
					   "enforcers %s and %s are both prebuilt objects at %s: "
					   "a prebuilt object ends the chain, so a hook holds at "
					   "most one",
					   s->enforcers[first[en->hook]].name.s, en->name.s,
					   apiary_hook_name(en->hook));
		else
			first[en->hook] = (int)e;
	}
	return err;
}

/* ---- metadata --------------------------------------------------------------- */

static const char *map_kind_name(enum apiary_map_kind k)
{
	static const char *const names[] = { "hash", "lru_hash", "array", "percpu_hash",
					     "percpu_array" };

	return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}

static const char *verdict_name(enum apiary_verdict_kind v)
{
	static const char *const names[] = { "drop", "pass", "tx", "redirect", "aborted" };

	return (unsigned)v < sizeof(names) / sizeof(names[0]) ? names[v] : "?";
}

static json_object *json_state_type(const struct apiary_type *t)
{
	static const char *const names[] = { "u8", "u16", "u32", "u64", "bytes", "flow" };
	json_object *o = json_object_new_object();
	unsigned size = t->size;

	json_object_object_add(o, "type", json_object_new_string(names[t->kind]));
	if (t->kind == APIARY_TY_FLOW) {
		size = sizeof(struct apiary_flow_key);
		json_object_object_add(o, "classifier", json_object_new_string(t->ref.s ? t->ref.s : ""));
	} else if (t->kind != APIARY_TY_BYTES) {
		size = 1u << (t->kind - APIARY_TY_U8);
	}
	json_object_object_add(o, "size", json_object_new_int((int)size));
	return o;
}

static json_object *json_pred(const struct apiary_pred *p)
{
	char buf[2048];

	if (!p)
		return json_object_new_string("");
	apiary_pred_format(p, buf, sizeof(buf));
	return json_object_new_string(buf);
}

static json_object *json_hash(const uint8_t h[32])
{
	char hex[65];

	hex32(hex, h);
	return json_object_new_string(hex);
}

/* Default chain of a hook: the spec's order, the prebuilt enforcer last. */
static json_object *json_default_chain(const struct apiary_spec *s, enum apiary_hook h)
{
	json_object *a = json_object_new_array();

	for (int pass = 0; pass < 2; pass++) {
		for (size_t e = 0; e < s->nenforcers; e++) {
			const struct apiary_enforcer *en = &s->enforcers[e];

			if (en->hook != h || en->code.prebuilt != (pass == 1))
				continue;
			json_object_array_add(a, json_object_new_int((int)e));
		}
	}
	return a;
}

static int write_metadata(struct ctx *c)
{
	const struct apiary_spec *s = c->spec;
	struct apiary_build *b = c->b;
	json_object *root = json_object_new_object();
	json_object *bundle = json_object_new_object();
	json_object *sidecar = json_object_new_object();
	json_object *progs = json_object_new_array();
	json_object *enfs = json_object_new_array();
	json_object *maps = json_object_new_array();
	json_object *chains = json_object_new_object();
	json_object *inv = json_object_new_object();
	json_object *a;
	int err = 0;

	json_object_object_add(root, "abi_version", json_object_new_int(APIARY_ABI_VERSION));
	json_object_object_add(bundle, "name", json_object_new_string(s->bundle.s ? s->bundle.s : ""));
	json_object_object_add(bundle, "version", json_object_new_int64(s->version));
	json_object_object_add(bundle, "hash", json_object_new_string(b->bundle_hash_hex));
	json_object_object_add(bundle, "coverage", json_object_new_boolean(b->coverage));
	json_object_object_add(root, "bundle", bundle);

	json_object_object_add(sidecar, "object", json_object_new_string(b->sidecar_object));
	json_object_object_add(sidecar, "sha256", json_hash(b->sidecar_hash));
	a = json_object_new_object();
	json_object_object_add(a, "xdp", json_object_new_string("apiary_xdp"));
	json_object_object_add(a, "tc.ingress", json_object_new_string("apiary_tc_ingress"));
	json_object_object_add(a, "tc.egress", json_object_new_string("apiary_tc_egress"));
	json_object_object_add(sidecar, "programs", a);
	if (s->classifier) {
		a = json_object_new_object();
		json_object_object_add(a, "name", json_object_new_string(s->classifier->name.s));
		json_object_object_add(a, "hook", json_object_new_string(apiary_hook_name(s->classifier->hook)));
		json_object_object_add(a, "match", json_pred(s->classifier->match));
		json_object_object_add(sidecar, "classifier", a);
	}
	json_object_object_add(root, "sidecar", sidecar);

	for (size_t e = 0; e < s->nenforcers; e++) {
		const struct apiary_enforcer *en = &s->enforcers[e];

		a = json_object_new_object();
		json_object_object_add(a, "index", json_object_new_int((int)e));
		json_object_object_add(a, "name", json_object_new_string(en->name.s));
		json_object_object_add(a, "team", json_object_new_string(en->team.s ? en->team.s : ""));
		json_object_object_add(a, "hook", json_object_new_string(apiary_hook_name(en->hook)));
		json_object_array_add(enfs, a);
	}
	json_object_object_add(root, "enforcers", enfs);

	for (size_t i = 0; i < b->nprogs; i++) {
		const struct apiary_build_prog *p = &b->progs[i];
		const struct apiary_enforcer *en = &s->enforcers[p->enforcer];

		a = json_object_new_object();
		json_object_object_add(a, "enforcer", json_object_new_string(en->name.s));
		json_object_object_add(a, "index", json_object_new_int(p->enforcer));
		json_object_object_add(a, "team", json_object_new_string(en->team.s ? en->team.s : ""));
		json_object_object_add(a, "version", json_object_new_int64(p->version));
		json_object_object_add(a, "vslot", json_object_new_int(p->vslot));
		json_object_object_add(a, "slot", json_object_new_int(APIARY_PROG_SLOT(p->enforcer, p->vslot)));
		json_object_object_add(a, "hook", json_object_new_string(apiary_hook_name(p->hook)));
		json_object_object_add(a, "opaque", json_object_new_boolean(p->opaque));
		json_object_object_add(a, "object", json_object_new_string(p->object_path));
		json_object_object_add(a, "prog_name", json_object_new_string(p->prog_name));
		json_object_object_add(a, "entry", json_object_new_string(p->entry_name));
		json_object_object_add(a, "source", p->source_path ? json_object_new_string(p->source_path) : NULL);
		json_object_object_add(a, "sha256", json_hash(p->hash));
		json_object_array_add(progs, a);
	}
	json_object_object_add(root, "programs", progs);

	for (size_t i = 0; i < s->nstates; i++) {
		const struct apiary_state *st = &s->states[i];

		a = json_object_new_object();
		json_object_object_add(a, "name", json_object_new_string(st->name.s));
		json_object_object_add(a, "kind", json_object_new_string(map_kind_name(st->kind)));
		json_object_object_add(a, "key", json_state_type(&st->key));
		json_object_object_add(a, "value", json_state_type(&st->value));
		json_object_object_add(a, "max_entries", json_object_new_int64(st->max_entries));
		json_object_array_add(maps, a);
	}
	json_object_object_add(root, "maps", maps);

	for (int h = APIARY_HOOK_XDP; h < APIARY_HOOK__COUNT; h++)
		json_object_object_add(chains, apiary_hook_name(h), json_default_chain(s, h));
	json_object_object_add(root, "chains", chains);

	a = json_object_new_array();
	for (size_t i = 0; i < s->norders; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "before", json_object_new_string(s->orders[i].before.s));
		json_object_object_add(o, "after", json_object_new_string(s->orders[i].after.s));
		json_object_array_add(a, o);
	}
	json_object_object_add(inv, "order", a);
	a = json_object_new_array();
	for (size_t i = 0; i < s->ncovers; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "enforcer", json_object_new_string(s->covers[i].enforcer.s));
		json_object_object_add(o, "sees", json_pred(s->covers[i].sees));
		json_object_array_add(a, o);
	}
	json_object_object_add(inv, "cover", a);
	a = json_object_new_array();
	for (size_t i = 0; i < s->nexclusives; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "state", json_object_new_string(s->exclusives[i].state.s));
		json_object_object_add(o, "owner", json_object_new_string(s->exclusives[i].owner.s));
		json_object_array_add(a, o);
	}
	json_object_object_add(inv, "exclusive", a);
	a = json_object_new_array();
	for (size_t i = 0; i < s->nflow_consistent; i++)
		json_object_array_add(a, json_object_new_string(s->flow_consistent[i].enforcer.s));
	json_object_object_add(inv, "flow_consistent", a);
	a = json_object_new_array();
	for (size_t e = 0; e < s->nenforcers; e++) {
		for (size_t i = 0; i < s->enforcers[e].neffects; i++) {
			const struct apiary_effect *ef = &s->enforcers[e].effects[i];
			json_object *o = json_object_new_object();

			json_object_object_add(o, "enforcer", json_object_new_string(s->enforcers[e].name.s));
			json_object_object_add(o, "verdict", json_object_new_string(verdict_name(ef->verdict)));
			json_object_object_add(o, "when", json_pred(ef->when));
			json_object_array_add(a, o);
		}
	}
	json_object_object_add(inv, "effects", a);
	json_object_object_add(root, "invariants", inv);

	b->metadata_path = path_join(b->out_dir, "apiary.json");
	if (!b->metadata_path)
		err = -ENOMEM;
	else if (json_object_to_file_ext(b->metadata_path, root,
					 JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
						 JSON_C_TO_STRING_NOSLASHESCAPE))
		err = apiary_error(c->d, NULL, "cannot write %s: %s", b->metadata_path,
				   json_util_get_last_err());
	json_object_put(root);
	return err;
}

/* Bundle identity: sha256 over the spec text, then the sidecar's hash and
 * every program's hash in (enforcer, vslot) order. */
static int bundle_hash(struct apiary_build *b, const struct apiary_spec *s)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int len = 32;
	int ok;

	if (!md)
		return -ENOMEM;
	ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	if (ok && s->text)
		ok = EVP_DigestUpdate(md, s->text, strlen(s->text));
	if (ok)
		ok = EVP_DigestUpdate(md, b->sidecar_hash, 32);
	for (size_t i = 0; ok && i < b->nprogs; i++)
		ok = EVP_DigestUpdate(md, b->progs[i].hash, 32);
	if (ok)
		ok = EVP_DigestFinal_ex(md, b->bundle_hash, &len);
	EVP_MD_CTX_free(md);
	if (!ok)
		return -EIO;
	hex32(b->bundle_hash_hex, b->bundle_hash);
	return 0;
}

/* ---- entry points ----------------------------------------------------------- */

int apiary_compile(const struct apiary_spec *spec, const struct apiary_build_opts *opts,
		   struct apiary_build **out, struct apiary_diags *diags)
{
	struct apiary_build *b;
	struct ctx c = { .spec = spec, .opts = opts, .d = diags };
	size_t nslots = 0;
	char *side_c = NULL;
	int err, failed = 0;

	*out = NULL;
	if (!opts || opts->sz < sizeof(size_t) + sizeof(char *) || !opts->out_dir)
		return apiary_error(diags, NULL, "compile: no output directory given");
	c.clang = opts->clang ? opts->clang : "clang";
	c.llc = opts->llc ? opts->llc : "llc";

	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	c.b = b;
	b->spec = spec;
	b->coverage = opts->coverage;

	err = make_dirs(opts->out_dir);
	if (err) {
		err = apiary_error(diags, NULL, "cannot create %s: %s", opts->out_dir,
				   strerror(-err));
		goto out;
	}
	b->out_dir = realpath(opts->out_dir, NULL);
	if (!b->out_dir) {
		err = -errno;
		goto out;
	}

	err = check_opaque_per_hook(&c);
	err = err ?: write_generated(&c, "apiary_bundle.h", gen_bundle_h, NULL, NULL);
	err = err ?: write_generated(&c, "sidecar.bpf.c", gen_sidecar, NULL, &side_c);
	if (err)
		goto out;
	b->sidecar_object = path_join(b->out_dir, "sidecar.bpf.o");
	if (!b->sidecar_object) {
		err = -ENOMEM;
		goto out;
	}
	err = build_sidecar(&c, side_c);
	err = err ?: sha256_file(b->sidecar_object, b->sidecar_hash);
	if (err)
		goto out;

	for (size_t e = 0; e < spec->nenforcers; e++)
		for (int v = 0; v < APIARY_NVSLOTS; v++)
			nslots += apiary_gen_code(spec, (int)e, v, NULL) != NULL;
	b->progs = calloc(nslots ? nslots : 1, sizeof(*b->progs));
	if (!b->progs) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t e = 0; e < spec->nenforcers; e++) {
		const struct apiary_enforcer *en = &spec->enforcers[e];

		for (int v = 0; v < APIARY_NVSLOTS; v++) {
			struct apiary_build_prog *bp = &b->progs[b->nprogs];
			uint32_t version = 0;
			const struct apiary_code *code = apiary_gen_code(spec, (int)e, v, &version);
			int perr;

			if (!code)
				continue;
			b->nprogs++;
			bp->enforcer = (int)e;
			bp->vslot = v;
			bp->version = version;
			bp->hook = en->hook;
			bp->opaque = code->prebuilt;
			perr = code->prebuilt ? build_opaque(&c, bp, en, code)
					      : build_source(&c, bp, en, code);
			perr = perr ?: sha256_file(bp->object_path, bp->hash);
			if (perr) {
				failed = failed ?: perr;
				if (!opts->keep_going) {
					err = perr;
					goto out;
				}
			}
		}
	}
	if (failed) {
		err = failed;
		goto out;
	}
	err = bundle_hash(b, spec);
	err = err ?: write_metadata(&c);
out:
	free(side_c);
	if (err) {
		apiary_build_free(b);
		return err;
	}
	*out = b;
	return 0;
}

void apiary_build_free(struct apiary_build *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->nprogs; i++) {
		free(b->progs[i].object_path);
		free(b->progs[i].prog_name);
		free(b->progs[i].entry_name);
		free(b->progs[i].source_path);
	}
	free(b->progs);
	free(b->out_dir);
	free(b->sidecar_object);
	free(b->metadata_path);
	free(b);
}

const struct apiary_build_prog *apiary_build_prog(const struct apiary_build *b, int enforcer,
						  int vslot)
{
	for (size_t i = 0; b && i < b->nprogs; i++)
		if (b->progs[i].enforcer == enforcer && b->progs[i].vslot == vslot)
			return &b->progs[i];
	return NULL;
}
