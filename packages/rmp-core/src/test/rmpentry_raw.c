/*
 * Packs RMP entries with the C compiler's bitfield layout, for entry.c.test.ts.
 * The field list is the fact from arch/x86/virt/svm/sev.c (struct rmpentry_raw); the code is ours.
 * stdin: one entry per line, "assigned pagesize immutable gfn asid vmsa validated hi" (decimal);
 * stdout: the 16 bytes of each entry in hex.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct raw_entry {
	union {
		struct {
			uint64_t assigned : 1, pagesize : 1, immutable : 1, rsvd1 : 9, gfn : 39, asid : 10, vmsa : 1,
			    validated : 1, rsvd2 : 1;
		};
		uint64_t lo;
	};
	uint64_t hi;
} __attribute__((packed));

int main(void)
{
	unsigned long long f[8];
	while (scanf("%llu %llu %llu %llu %llu %llu %llu %llu", &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6],
		     &f[7]) == 8) {
		struct raw_entry e;
		memset(&e, 0, sizeof(e));
		e.assigned = f[0];
		e.pagesize = f[1];
		e.immutable = f[2];
		e.gfn = f[3];
		e.asid = f[4];
		e.vmsa = f[5];
		e.validated = f[6];
		e.hi = f[7];
		const unsigned char *b = (const unsigned char *)&e;
		for (size_t i = 0; i < sizeof(e); i++)
			printf("%02x", b[i]);
		printf("\n");
	}
	return sizeof(struct raw_entry) == 16 ? 0 : 1;
}
