// SPDX-License-Identifier: MIT
/* Version 2 of the test firewall: also drops port 2323. */
#define FW_PORT2 2323
#include "fw.bpf.c"
