/*
 * The harness's confinement, entered before any code from the patch can run: the scenario is read
 * from stdin, resource limits are set, and the process enters seccomp strict mode, after which the
 * kernel allows only read(2) and write(2) on descriptors already open, _exit(2) and sigreturn(2);
 * any other system call (open, socket, execve, mmap, ...) kills the process with SIGKILL
 * (Documentation/userspace-api/seccomp_filter.rst, "SECCOMP_MODE_STRICT"; prctl(2) PR_SET_SECCOMP).
 * System calls before that point are made by inline assembly, never through a libc symbol that
 * the patch's C (compiled into the same program) could define. Written for snp-conform.
 */
#ifndef SNP_SANDBOX_H
#define SNP_SANDBOX_H

#if defined(__x86_64__)
/* arch/x86/entry/syscalls/syscall_64.tbl */
#define SNP_SYS_READ 0
#define SNP_SYS_EXIT 60
#define SNP_SYS_PRCTL 157
#define SNP_SYS_SETRLIMIT 160
static inline long snp_sandbox_syscall3(long n, long a, long b, long c)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return ret;
}
#elif defined(__aarch64__)
/* include/uapi/asm-generic/unistd.h */
#define SNP_SYS_READ 63
#define SNP_SYS_EXIT 93
#define SNP_SYS_PRCTL 167
#define SNP_SYS_SETRLIMIT 164
static inline long snp_sandbox_syscall3(long n, long a, long b, long c)
{
	register long x8 __asm__("x8") = n, x0 __asm__("x0") = a, x1 __asm__("x1") = b, x2 __asm__("x2") = c;
	__asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
	return x0;
}
#else
#error "the snp-conform harness sandbox supports Linux on x86-64 and arm64"
#endif

/* include/uapi/linux/prctl.h, include/uapi/linux/seccomp.h, include/uapi/asm-generic/resource.h */
#define SNP_PR_SET_SECCOMP 22
#define SNP_SECCOMP_MODE_STRICT 1
#define SNP_RLIMIT_CPU 0
#define SNP_RLIMIT_FSIZE 1
#define SNP_RLIMIT_CORE 4

/* Exit status when the sandbox cannot be entered: snp-conform then refuses to trust the run. */
#define SNP_SANDBOX_UNAVAILABLE 97

struct snp_rlimit { unsigned long cur, max; };

static void snp_sandbox_exit(int status)
{
	snp_sandbox_syscall3(SNP_SYS_EXIT, status, 0, 0);
	for (;;)
		;
}

/*
 * Reads all of stdin into buf (at most size - 1 bytes, NUL-terminated), limits CPU time to
 * cpu_seconds (SIGXCPU, then SIGKILL a second later), forbids creating files and core dumps, and
 * enters seccomp strict mode. Returns the input length; exits if any step fails.
 */
static long snp_sandbox_enter(char *buf, long size, unsigned long cpu_seconds)
{
	struct snp_rlimit cpu = { cpu_seconds, cpu_seconds + 1 }, none = { 0, 0 };
	long len = 0, n;

	while (len < size - 1 && (n = snp_sandbox_syscall3(SNP_SYS_READ, 0, (long)(buf + len), size - 1 - len)) > 0)
		len += n;
	buf[len] = '\0';
	if (snp_sandbox_syscall3(SNP_SYS_SETRLIMIT, SNP_RLIMIT_CPU, (long)&cpu, 0) ||
	    snp_sandbox_syscall3(SNP_SYS_SETRLIMIT, SNP_RLIMIT_FSIZE, (long)&none, 0) ||
	    snp_sandbox_syscall3(SNP_SYS_SETRLIMIT, SNP_RLIMIT_CORE, (long)&none, 0) ||
	    snp_sandbox_syscall3(SNP_SYS_PRCTL, SNP_PR_SET_SECCOMP, SNP_SECCOMP_MODE_STRICT, 0))
		snp_sandbox_exit(SNP_SANDBOX_UNAVAILABLE);
	return len;
}
#endif
