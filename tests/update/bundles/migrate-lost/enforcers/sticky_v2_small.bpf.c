// SPDX-License-Identifier: MIT
/* lb version 2 with a sticky table of 2 entries: a migration of 3 loses one. */
#define STICKY_MAX 2
#include "../../../../../corpus/lb-migrate/enforcers/sticky_v2.bpf.c"
