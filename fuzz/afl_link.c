// SPDX-License-Identifier: MIT
/* The AFL++ fork-server protocol without a fork per run: see afl_link.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#include "afl_link.h"

/* AFL++ 4.04c, include/config.h and include/types.h */
#define FORKSRV_FD 198 /* afl-fuzz -> us: one u32 per request */
#define STATUS_FD 199  /* us -> afl-fuzz: hello, then pid and wait status per run */
#define FS_OPT_ENABLED 0x80000001u
#define FS_OPT_MAPSIZE 0x40000000u
#define FS_OPT_SHDMEM_FUZZ 0x01000000u
#define FS_OPT_MAX_MAPSIZE ((0x00fffffeu >> 1) + 1)
#define FS_OPT_SET_MAPSIZE(x) (((uint32_t)(x) - 1) << 1)

/* What a persistent child reports after each run: stopped by SIGSTOP. */
#define STATUS_RAN ((SIGSTOP << 8) | 0x7f)
/* Workers in a row that died before finishing a single run, before giving
 * up (one that cannot even start would be respawned forever). */
#define MAX_FUTILE_WORKERS 3

/* Shared by the supervisor and its worker: is a run in progress (afl-fuzz
 * is waiting for its status), and how many runs have finished. */
struct link_shared {
	int in_run;
	uint64_t runs;
};
static volatile struct link_shared *shared;
static pid_t worker_pid;
/* The worker holds signals sent from outside (a kill(1), say) back while
 * it talks to afl-fuzz: one landing between taking a request and sending
 * the pid, or between sending the status and saying so in shared, would
 * make the supervisor answer wrongly and derail the protocol. Held back,
 * it lands in the next run and is reported as that run's crash. Faults
 * (SIGSEGV from the code itself) and SIGKILL are never held back. */
static sigset_t all_signals, run_signals;

bool afl_link_wanted(void)
{
	return getenv("__AFL_SHM_ID") != NULL;
}

static void *attach_shm(const char *var)
{
	const char *id = getenv(var);
	char *end;
	long n;
	void *p;

	if (!id || !*id)
		return NULL;
	errno = 0;
	n = strtol(id, &end, 10);
	if (errno || *end || n < 0) {
		fprintf(stderr, "apiary-fuzz-afl: %s=%s is not a shared memory id\n", var, id);
		return NULL;
	}
	p = shmat((int)n, NULL, 0);
	if (p == (void *)-1) {
		fprintf(stderr, "apiary-fuzz-afl: shmat(%s=%ld): %s\n", var, n, strerror(errno));
		return NULL;
	}
	return p;
}

static int write_u32(int fd, uint32_t v)
{
	ssize_t n;

	do
		n = write(fd, &v, sizeof(v));
	while (n < 0 && errno == EINTR);
	return n == sizeof(v) ? 0 : -EPIPE;
}

static int read_u32(int fd, uint32_t *v)
{
	ssize_t n;

	do
		n = read(fd, v, sizeof(*v));
	while (n < 0 && errno == EINTR);
	return n == sizeof(*v) ? 0 : -EPIPE;
}

/* The supervisor's loop: one worker at a time; answer for a worker that
 * died owing afl-fuzz a status. Never returns in the supervisor. */
static int supervise(void)
{
	pid_t supervisor = getpid();
	int futile = 0;

	for (;;) {
		uint64_t runs_before = shared->runs;
		int status;
		pid_t pid;

		shared->in_run = 0;
		pid = fork();
		if (pid < 0) {
			fprintf(stderr, "apiary-fuzz-afl: fork: %s\n", strerror(errno));
			_exit(1);
		}
		if (pid == 0) {
			/* die with the supervisor, which dies with afl-fuzz */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != supervisor)
				_exit(1);
			worker_pid = getpid();
			sigfillset(&all_signals);
			sigprocmask(SIG_BLOCK, &all_signals, &run_signals);
			return 0;
		}
		while (waitpid(pid, &status, 0) < 0)
			if (errno != EINTR)
				_exit(1);
		if (shared->in_run) {
			/* a crash or a timeout's SIGKILL: what afl-fuzz awaits */
			futile = 0;
			if (write_u32(STATUS_FD, (uint32_t)status))
				_exit(0);
			continue;
		}
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			_exit(0); /* afl-fuzz closed the pipe: the campaign is over */
		/* died between runs (killed from outside): fine if it ran */
		futile = shared->runs == runs_before ? futile + 1 : 0;
		if (futile >= MAX_FUTILE_WORKERS) {
			fprintf(stderr, "apiary-fuzz-afl: %d workers in a row died before finishing a run "
					"(last status 0x%x)\n", futile, status);
			_exit(1);
		}
	}
}

int afl_link_start(size_t map_size, struct afl_link *l)
{
	uint32_t hello, reply;
	uint8_t *cases;

	memset(l, 0, sizeof(*l));
	if (map_size < 2 || map_size > FS_OPT_MAX_MAPSIZE) {
		fprintf(stderr, "apiary-fuzz-afl: a map of %zu bytes cannot be reported to afl-fuzz\n",
			map_size);
		return -EINVAL;
	}
	l->map = attach_shm("__AFL_SHM_ID");
	if (!l->map)
		return -ENOENT;
	if (!getenv("__AFL_SHM_FUZZ_ID")) {
		fprintf(stderr, "apiary-fuzz-afl: afl-fuzz offered no test cases in shared memory "
				"(__AFL_SHM_FUZZ_ID)\n");
		return -ENOTSUP;
	}
	hello = FS_OPT_ENABLED | FS_OPT_MAPSIZE | FS_OPT_SET_MAPSIZE(map_size) | FS_OPT_SHDMEM_FUZZ;
	if (write_u32(STATUS_FD, hello) || read_u32(FORKSRV_FD, &reply)) {
		fprintf(stderr, "apiary-fuzz-afl: no fork-server pipes (fds %d, %d): not started by afl-fuzz?\n",
			FORKSRV_FD, STATUS_FD);
		return -EPIPE;
	}
	if ((reply & (FS_OPT_ENABLED | FS_OPT_SHDMEM_FUZZ)) != (FS_OPT_ENABLED | FS_OPT_SHDMEM_FUZZ)) {
		fprintf(stderr, "apiary-fuzz-afl: afl-fuzz answered 0x%08x, not shared-memory test cases\n",
			reply);
		return -EPROTO;
	}
	cases = attach_shm("__AFL_SHM_FUZZ_ID");
	if (!cases)
		return -ENOENT;
	l->case_len = (const uint32_t *)cases;
	l->case_buf = cases + sizeof(uint32_t);

	/* the supervisor dies with afl-fuzz, its worker with the supervisor:
	 * nothing outlives a campaign that is killed */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		      -1, 0);
	if (shared == MAP_FAILED) {
		fprintf(stderr, "apiary-fuzz-afl: mmap: %s\n", strerror(errno));
		return -errno;
	}
	return supervise();
}

bool afl_link_next(void)
{
	uint32_t was_killed;

	/* afl-fuzz says whether it killed the previous run's process; the
	 * supervisor has reaped that one already */
	if (read_u32(FORKSRV_FD, &was_killed))
		return false;
	shared->in_run = 1;
	if (write_u32(STATUS_FD, (uint32_t)worker_pid))
		return false;
	sigprocmask(SIG_SETMASK, &run_signals, NULL);
	return true;
}

void afl_link_done(void)
{
	sigprocmask(SIG_BLOCK, &all_signals, NULL);
	if (write_u32(STATUS_FD, STATUS_RAN))
		_exit(0);
	shared->in_run = 0;
	shared->runs++;
}
