// SPDX-License-Identifier: MIT
/*
 * AFL++ persistent-mode driver:
 *   afl-fuzz [...] -- apiary-fuzz-afl OBJ...          plain BPF objects
 *   afl-fuzz [...] -- apiary-fuzz-afl --bundle SPEC BUILD_DIR [--cpu N] [--no-counters]
 *                                                     a bundle apiary-fuzz compiled
 *
 * Built with the plain C compiler, not afl-cc, and without AFL++'s runtime:
 * AFL would size its map to this program's own edges and cut the BPF
 * counters off. The in-kernel counters (and the outcome signature) are the
 * only coverage AFL sees; the handshake reports exactly the bytes the
 * harness writes. The fork-server protocol is spoken here (afl_link.c):
 * afl-fuzz talks straight to the process that runs the inputs.
 *
 * A violation (the plain executor's marker verdict) is reported to AFL as
 * a crash (abort()). In bundle mode invariants are checked by apiary-fuzz
 * on the queue, not here: a crash of this target is a harness bug.
 * With objects, APIARY_FUZZ_NO_VIOLATION=1 makes no verdict a violation
 * (for rate benchmarks). Outside afl-fuzz it reads one test case from
 * stdin, so a crash found by AFL replays with
 * `apiary-fuzz-afl OBJ... < crashes/id:...`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "afl_link.h"
#include "apiary/fuzz.h"

/* afl-fuzz looks for these in the binary: persistent mode (one process
 * runs many inputs) and a deferred start (after the bundle is loaded), and
 * then offers test cases in shared memory. */
__attribute__((used)) static const char afl_persistent_sig[] = "##SIG_AFL_PERSISTENT##";
__attribute__((used)) static const char afl_defer_sig[] = "##SIG_AFL_DEFER_FORKSRV##";

#define STDIN_MAX (1 << 20)
#define AFL_DEFAULT_MAP 65536
/* a floor for the map size reported: smaller gains nothing */
#define AFL_MIN_MAP 64

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

/* One input. A failure of the harness or a violation aborts: afl-fuzz
 * records a crash, and a replay from stdin ends the same way. */
static void run_one(struct apiary_harness *h, const uint8_t *buf, size_t len, uint8_t *map,
		    size_t map_size, struct apiary_exec_result *res)
{
	int err = apiary_harness_exec(h, buf, len, map, map_size, res);

	if (err) {
		fprintf(stderr, "apiary-fuzz-afl: execution failed: %s\n", strerror(-err));
		abort(); /* infrastructure failure: visible, not silent */
	}
	if (res->violations) {
		fprintf(stderr, "apiary-fuzz-afl: violation (kind %d) in %u event(s)\n",
			res->first_violation, res->nevents);
		abort();
	}
}

int main(int argc, char **argv)
{
	struct apiary_plain *plain = NULL;
	struct apiary_fuzz_target target = { 0 };
	struct apiary_harness *h = NULL;
	struct apiary_exec_result res;
	struct apiary_diags d;
	bool bundle = argc > 1 && !strcmp(argv[1], "--bundle");
	volatile uint64_t *execs = NULL;
	uint64_t seen[APIARY_FUZZ_NSTATS] = { 0 };
	static uint8_t stdin_buf[STDIN_MAX], own_map[1 << 20];
	struct afl_link link;
	size_t map_size;
	int err;

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
		struct apiary_plain_opts popts = {
			.sz = sizeof(popts), .no_violation = apiary_fuzz_env_flag("APIARY_FUZZ_NO_VIOLATION")
		};

		err = apiary_plain_harness_open((const char *const *)argv + 1, (size_t)argc - 1,
						&popts, &plain, &h, &d);
	}
	if (err)
		return fail(&d, err);
	map_size = apiary_harness_map_size(h);
	if (map_size < AFL_MIN_MAP)
		map_size = AFL_MIN_MAP;
	if (map_size > sizeof(own_map)) {
		fprintf(stderr, "apiary-fuzz-afl: coverage map of %zu bytes is too large\n",
			map_size);
		return 2;
	}
	execs = apiary_fuzz_exec_counter();
	if (!afl_link_wanted()) {
		/* outside afl-fuzz: one test case from stdin */
		ssize_t n = read(STDIN_FILENO, stdin_buf, sizeof(stdin_buf));

		run_one(h, stdin_buf, n > 0 ? (size_t)n : 0, own_map, sizeof(own_map), &res);
		printf("ok: %u event(s), %s\n", res.nevents,
		       res.decoded ? "decoded" : "not an apiary input");
		goto out;
	}
	if (map_size > AFL_DEFAULT_MAP && !getenv("AFL_MAP_SIZE"))
		fprintf(stderr, "apiary-fuzz-afl: set AFL_MAP_SIZE=%zu\n", map_size);
	err = afl_link_start(map_size, &link);
	if (err)
		return 2;
	/* a new worker: what an earlier one left in the kernel (chains,
	 * routes) is unknown to this copy */
	if (target.exec)
		apiary_rt_exec_new_process(target.exec);
	while (afl_link_next()) {
		size_t len = *link.case_len;

		if (len > STDIN_MAX)
			len = STDIN_MAX; /* afl-fuzz's own limit is 1 MiB too */
		run_one(h, link.case_buf, len, link.map, map_size, &res);
		apiary_fuzz_count_exec(execs, target.exec, plain, seen);
		afl_link_done();
	}
out:
	if (bundle) {
		apiary_fuzz_target_close(&target);
	} else {
		apiary_harness_free(h);
		apiary_plain_free(plain);
	}
	apiary_diags_free(&d);
	return 0;
}
