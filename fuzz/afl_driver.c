// SPDX-License-Identifier: MIT
/*
 * AFL++ persistent-mode driver:
 *   afl-fuzz [...] -- apiary-fuzz-afl OBJ...          plain BPF objects
 *   afl-fuzz [...] -- apiary-fuzz-afl --bundle SPEC BUILD_DIR [--cpu N] [--no-counters]
 *                                                     a bundle apiary-fuzz compiled
 *
 * Built with the plain C compiler, NOT afl-cc: AFL would size its map to
 * this program's own edges and cut the BPF counters off. Instead the
 * AFL++ runtime (afl-compiler-rt.o) is linked in and the macros afl-cc
 * would have defined are spelled out below; the in-kernel counters (and
 * the outcome signature) are the only coverage AFL sees, and the map size
 * reported in the forkserver handshake is exactly what the harness writes.
 *
 * A violation (the plain executor's marker verdict) is reported to AFL as
 * a crash (abort()). In bundle mode invariants are checked by apiary-fuzz
 * on the queue, not here: a crash of this target is a harness bug.
 * Outside afl-fuzz it reads one test case from stdin, so a crash found by
 * AFL replays with `apiary-fuzz-afl OBJ... < crashes/id:...`.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "apiary/fuzz.h"

/* What __AFL_FUZZ_INIT(), __AFL_INIT() and __AFL_LOOP() expand to under
 * afl-cc (AFL++ 4.04c): shared-memory test cases, deferred forkserver,
 * persistent loop. afl-fuzz finds the two signatures in the binary. */
int __afl_sharedmem_fuzzing = 1;
extern unsigned int *__afl_fuzz_len;
extern unsigned char *__afl_fuzz_ptr;
extern unsigned char *__afl_area_ptr;
extern unsigned int __afl_map_size;
int __afl_persistent_loop(unsigned int max_cnt);
void __afl_manual_init(void);
__attribute__((used)) static const char afl_persistent_sig[] = "##SIG_AFL_PERSISTENT##";
__attribute__((used)) static const char afl_defer_sig[] = "##SIG_AFL_DEFER_FORKSRV##";

#define STDIN_MAX (1 << 20)
#define AFL_DEFAULT_MAP 65536
#define LOOP_COUNT 100000

/* Print the diagnostics of a failed setup (this is a CLI, not library). */
static int fail(struct apiary_diags *d, int err)
{
	apiary_diags_print(d, stderr);
	fprintf(stderr, "apiary-fuzz-afl: setup failed: %s\n", strerror(-err));
	return 2;
}

/* Bundle mode: SPEC BUILD_DIR [--cpu N] [--no-counters]. */
static int open_bundle(int argc, char **argv, struct apiary_fuzz_target *t, struct apiary_diags *d)
{
	struct apiary_fuzz_target_opts o = { .sz = sizeof(o), .cpu = -1 };

	if (argc < 4)
		return -EINVAL;
	for (int i = 4; i < argc; i++) {
		if (!strcmp(argv[i], "--cpu") && i + 1 < argc)
			o.cpu = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--no-counters"))
			o.no_counters = true;
		else
			return -EINVAL;
	}
	return apiary_fuzz_target_open(argv[2], argv[3], &o, t, d);
}

int main(int argc, char **argv)
{
	struct apiary_plain *plain = NULL;
	struct apiary_fuzz_target target = { 0 };
	struct apiary_harness *h = NULL;
	struct apiary_executor ex;
	struct apiary_exec_result res;
	struct apiary_diags d;
	bool bundle = argc > 1 && !strcmp(argv[1], "--bundle");
	volatile uint64_t *execs = NULL;
	uint64_t seen[APIARY_FUZZ_NSTATS] = { 0 };
	static uint8_t stdin_buf[STDIN_MAX], own_map[1 << 20];
	bool under_afl = getenv("__AFL_SHM_ID") != NULL;
	size_t map_size;
	int err, first = 1, child_first = 1;

	if (argc < 2 || strcmp(argv[1], "-h") == 0) {
		fprintf(stderr, "usage: %s OBJECT.bpf.o... (test case on stdin or AFL shm)\n"
				"       %s --bundle SPEC BUILD_DIR [--cpu N] [--no-counters]\n",
			argv[0], argv[0]);
		return 2;
	}
	apiary_diags_init(&d);
	if (bundle) {
		err = open_bundle(argc, argv, &target, &d);
		h = target.harness;
	} else {
		err = apiary_plain_open((const char *const *)argv + 1, (size_t)argc - 1, NULL,
					&plain, &d);
		if (!err) {
			apiary_plain_executor(plain, &ex);
			err = apiary_harness_new(&ex, NULL, &h);
		}
		err = err ?: apiary_plain_attach(plain, h);
	}
	if (err)
		return fail(&d, err);
	map_size = apiary_harness_map_size(h);
	if (map_size > sizeof(own_map)) {
		fprintf(stderr, "apiary-fuzz-afl: coverage map of %zu bytes is too large\n",
			map_size);
		return 2;
	}
	if (under_afl && map_size > AFL_DEFAULT_MAP && !getenv("AFL_MAP_SIZE"))
		fprintf(stderr, "apiary-fuzz-afl: set AFL_MAP_SIZE=%zu\n", map_size);
	/* the handshake reports this size: AFL's map is exactly the counters */
	__afl_map_size = (unsigned int)(map_size < 64 ? 64 : map_size);
	execs = apiary_fuzz_exec_counter();
	/* die with afl-fuzz (the fork server) and with the fork server (each
	 * persistent child, stopped between runs, would otherwise be orphaned
	 * when a campaign is killed) */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	__afl_manual_init();
	prctl(PR_SET_PDEATHSIG, SIGKILL);

	while (__afl_persistent_loop(LOOP_COUNT)) {
		const uint8_t *buf = __afl_fuzz_ptr;
		size_t len;
		uint8_t *map = under_afl ? __afl_area_ptr : own_map;

		/* each persistent child is forked from the fork server, which
		 * never runs an input: what the previous child left in the
		 * kernel (chains, routes) is unknown to this copy */
		if (child_first && target.exec)
			apiary_rt_exec_new_process(target.exec);
		child_first = 0;

		if (buf) {
			len = *__afl_fuzz_len;
		} else {
			ssize_t n;

			/* outside afl-fuzz: one test case from stdin, then stop */
			if (!first)
				break;
			n = read(STDIN_FILENO, stdin_buf, sizeof(stdin_buf));
			len = n > 0 ? (size_t)n : 0;
			buf = stdin_buf;
		}
		first = 0;
		err = apiary_harness_exec(h, buf, len, map, sizeof(own_map) > map_size && !under_afl
								    ? sizeof(own_map) : map_size, &res);
		apiary_fuzz_stats_add(execs, target.exec, seen);
		if (err) {
			fprintf(stderr, "apiary-fuzz-afl: execution failed: %s\n", strerror(-err));
			abort(); /* infrastructure failure: visible, not silent */
		}
		if (res.violations) {
			fprintf(stderr, "apiary-fuzz-afl: violation (kind %d) in %u event(s)\n",
				res.first_violation, res.nevents);
			abort();
		}
		if (!under_afl && !__afl_fuzz_ptr)
			printf("ok: %u event(s), %s\n", res.nevents,
			       res.decoded ? "decoded" : "not an apiary input");
	}
	if (bundle) {
		apiary_fuzz_target_close(&target);
	} else {
		apiary_harness_free(h);
		apiary_plain_free(plain);
	}
	apiary_diags_free(&d);
	return 0;
}
