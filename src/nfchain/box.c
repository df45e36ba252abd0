/* box.c - one VNF replica as an OCI container run by runc (box.h).
 *
 * The bundle is a directory of three things: rootfs/ (read-only inside:
 * /bin/PROG, the interpreter at the path the ELF names, the libraries in
 * /lib, the configuration in /etc/nfchain, empty mount points), config.json
 * (written with json-c), and ctl/ when the caller lets the bundle hold the
 * control directory. Libraries are found by reading the ELF headers
 * (PT_INTERP, DT_NEEDED, DT_RUNPATH / DT_RPATH) and searching as ld.so
 * does, without running anything. The container's cgroups are
 * "nfchain-ID" below the cgroups of the process that runs runc (runc reads
 * a relative cgroupsPath that way), so nc_box_destroy() can find and
 * remove them even when runc lost track of the container.
 */
#define _GNU_SOURCE
#include "box.h"
#include "nf_util.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BOX_LIBS_MAX  64	/* shared libraries of one program, all levels */
#define BOX_PERIOD_US 100000	/* CFS period; quota = cpu_milli * 100 us */
#define BOX_PIDS_MAX  64	/* tasks in the container: the VNF, its threads,
				 * LSan's tracer in ASan builds */
#define BOX_NOFILE    1024	/* ports, eventfds, control clients */
#define BOX_CG_PREFIX "nfchain-"

/* The machine programs must be built for, and its seccomp ABI. */
#if defined(__x86_64__)
#define BOX_MACHINE   EM_X86_64
#define BOX_SCMP_ARCH "SCMP_ARCH_X86_64"
#else
#error "box.c: the seccomp list was derived on x86-64; derive it here (see box_syscalls)"
#endif

/* ------------------------------------------------------------------ */
/* The seccomp allowlist                                               */
/* ------------------------------------------------------------------ */

/* Every system call a contained VNF may make; any other one fails with
 * EPERM. Derived by running nf-router, nf-nat, nf-firewall and nf-bridge,
 * release and ASan builds, in busy, intr and yield modes, pinned with
 * --cpu, with traffic, every control request (stats, routes, neighbors,
 * sessions, mappings, rules, conntrack, load-rules, fdb, conf ...), a
 * memif peer that goes away and comes back, and SIGTERM:
 *   - under `strace -f -o` on the host (everything up to the exit);
 *   - in the container with `nfchain container run --seccomp-log`, which
 *     lets unlisted calls through and has the kernel log them
 *     ("audit: type=1326 ... syscall=N" in dmesg): this catches LSan's
 *     leak check at exit (it cannot run under strace) and what runc's init
 *     does between installing the filter and execve.
 * BOX_SAN rows only go to programs linked with libasan / libubsan (the
 * ASan build): the leak checker stops the process with ptrace from a
 * helper task. Special rules: socket() for AF_UNIX only (memif and the
 * control socket; the network namespace is empty anyway); clone() without
 * namespace flags; clone3() answers ENOSYS (its flags are behind a
 * pointer that seccomp cannot read), glibc then uses clone(). */
enum box_who { BOX_ALL, BOX_SAN };
enum box_rule { R_ALLOW, R_AF_UNIX, R_NO_NS, R_ENOSYS };

static const struct box_sys {
	const char *name;
	enum box_who who;
	enum box_rule rule;
	/* who needs it, for whoever prunes this list */
	const char *why;
} box_syscalls[] = {
	/* start: runc's init, the loader, libc */
	{ "execve",          BOX_ALL, R_ALLOW,   "runc init execs the VNF" },
	{ "brk",             BOX_ALL, R_ALLOW,   "malloc" },
	{ "arch_prctl",      BOX_ALL, R_ALLOW,   "ld.so: the thread pointer" },
	{ "set_tid_address", BOX_ALL, R_ALLOW,   "libc start, threads" },
	{ "set_robust_list", BOX_ALL, R_ALLOW,   "libc start, threads" },
	{ "rseq",            BOX_ALL, R_ALLOW,   "libc start, threads" },
	{ "prlimit64",       BOX_ALL, R_ALLOW,   "libc stack size; ASan: no core" },
	{ "getrandom",       BOX_ALL, R_ALLOW,   "malloc, hash seeds" },
	{ "access",          BOX_ALL, R_ALLOW,   "ld.so: /etc/ld.so.preload" },
	{ "openat",          BOX_ALL, R_ALLOW,   "libraries, the configuration" },
	{ "open",            BOX_SAN, R_ALLOW,   "ASan: /proc/self/maps" },
	{ "read",            BOX_ALL, R_ALLOW,   "files, eventfds, timerfds" },
	{ "pread64",         BOX_ALL, R_ALLOW,   "ld.so: ELF headers" },
	{ "write",           BOX_ALL, R_ALLOW,   "log lines, eventfd kicks" },
	{ "close",           BOX_ALL, R_ALLOW,   "everything" },
	{ "newfstatat",      BOX_ALL, R_ALLOW,   "ld.so, stdio" },
	{ "readlink",        BOX_SAN, R_ALLOW,   "ASan: /proc/self/exe" },
	{ "fstatfs",         BOX_ALL, R_ALLOW,   "runc init, after the filter: is /proc/self/fd procfs" },
	{ "getdents64",      BOX_ALL, R_ALLOW,   "runc init, after the filter: close-on-exec for fds >= 3" },
	{ "getdents",        BOX_SAN, R_ALLOW,   "LSan: the threads in /proc/self/task" },
	{ "lseek",           BOX_SAN, R_ALLOW,   "ASan reads /proc files" },
	{ "getppid",         BOX_SAN, R_ALLOW,   "LSan's tracer watches its parent" },
	{ "prctl",           BOX_ALL, R_ALLOW,   "libcap (libpcap's deps): PR_CAPBSET_READ; LSan: PR_SET_PTRACER" },
	/* memory */
	{ "mmap",            BOX_ALL, R_ALLOW,   "libraries, the pool, rings" },
	{ "mprotect",        BOX_ALL, R_ALLOW,   "ld.so relro, thread stacks" },
	{ "munmap",          BOX_ALL, R_ALLOW,   "port close, free" },
	{ "mremap",          BOX_ALL, R_ALLOW,   "realloc of large blocks" },
	{ "madvise",         BOX_ALL, R_ALLOW,   "conntrack table: MADV_HUGEPAGE; free" },
	{ "memfd_create",    BOX_ALL, R_ALLOW,   "memif regions, the buffer pool" },
	{ "ftruncate",       BOX_ALL, R_ALLOW,   "memfd sizes" },
	{ "fcntl",           BOX_ALL, R_ALLOW,   "F_ADD_SEALS, O_NONBLOCK" },
	/* signals, time, exit */
	{ "rt_sigaction",    BOX_ALL, R_ALLOW,   "SIGINT / SIGTERM handlers" },
	{ "rt_sigprocmask",  BOX_ALL, R_ALLOW,   "threads, abort" },
	{ "rt_sigreturn",    BOX_ALL, R_ALLOW,   "after a handler" },
	{ "sigaltstack",     BOX_SAN, R_ALLOW,   "ASan's signal stack" },
	{ "clock_gettime",   BOX_ALL, R_ALLOW,   "ASan; everyone when the clock source has no vDSO" },
	{ "getpid",          BOX_ALL, R_ALLOW,   "runc init, after the filter; abort()" },
	{ "gettid",          BOX_SAN, R_ALLOW,   "ASan's thread registry" },
	{ "tgkill",          BOX_ALL, R_ALLOW,   "abort() (a failed assertion, ASan's abort_on_error)" },
	{ "exit",            BOX_ALL, R_ALLOW,   "a thread ends" },
	{ "exit_group",      BOX_ALL, R_ALLOW,   "the process ends" },
	/* CPU, threads */
	{ "sched_setaffinity", BOX_ALL, R_ALLOW, "--cpu N (inside the cpuset: no capability)" },
	{ "sched_getaffinity", BOX_SAN, R_ALLOW, "ASan starting a thread" },
	{ "sched_yield",     BOX_ALL, R_ALLOW,   "mode yield; waits for the rule builder" },
	{ "futex",           BOX_ALL, R_ALLOW,   "locks, thread join" },
	{ "clone",           BOX_ALL, R_NO_NS,   "nf-firewall's rule builder thread; LSan's tracer" },
	{ "clone3",          BOX_ALL, R_ENOSYS,  "pthread_create tries it first" },
	{ "wait4",           BOX_SAN, R_ALLOW,   "LSan waits for its tracer" },
	{ "ptrace",          BOX_SAN, R_ALLOW,   "LSan's tracer stops the threads for the leak check" },
	/* sockets: memif (SOCK_SEQPACKET, fds passed with SCM_RIGHTS), control */
	{ "socket",          BOX_ALL, R_AF_UNIX, "memif, control socket" },
	{ "connect",         BOX_ALL, R_ALLOW,   "memif client, the control socket's live check" },
	{ "bind",            BOX_ALL, R_ALLOW,   "control socket" },
	{ "listen",          BOX_ALL, R_ALLOW,   "control socket" },
	{ "accept4",         BOX_ALL, R_ALLOW,   "control socket" },
	{ "sendmsg",         BOX_ALL, R_ALLOW,   "memif messages with fds" },
	{ "recvmsg",         BOX_ALL, R_ALLOW,   "memif messages with fds" },
	{ "sendto",          BOX_ALL, R_ALLOW,   "control replies" },
	{ "recvfrom",        BOX_ALL, R_ALLOW,   "control requests" },
	{ "mkdir",           BOX_ALL, R_ALLOW,   "the control socket's directory (exists: EEXIST)" },
	{ "chmod",           BOX_ALL, R_ALLOW,   "control socket mode 0600" },
	{ "unlink",          BOX_ALL, R_ALLOW,   "a stale control socket, at exit" },
	{ "rename",          BOX_ALL, R_ALLOW,   "the control socket into place once it listens" },
	/* waiting */
	{ "epoll_create1",   BOX_ALL, R_ALLOW,   "mode intr, control socket" },
	{ "epoll_ctl",       BOX_ALL, R_ALLOW,   "mode intr, control socket" },
	{ "epoll_wait",      BOX_ALL, R_ALLOW,   "mode intr" },
	{ "eventfd2",        BOX_ALL, R_ALLOW,   "memif interrupts" },
	{ "timerfd_create",  BOX_ALL, R_ALLOW,   "memif reconnect timer" },
	{ "timerfd_settime", BOX_ALL, R_ALLOW,   "memif reconnect timer" },
};

/* The namespace flags of clone(): CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC,
 * NEWUSER, NEWPID, NEWNET (as Docker's profile). */
#define BOX_CLONE_NS 0x7e020000ull

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static int say(char *err, size_t n, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int say(char *err, size_t n, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && n > 0) {
		va_start(ap, fmt);
		vsnprintf(err, n, fmt, ap);
		va_end(ap);
	}
	return ret;
}

static int id_ok(const char *id)
{
	size_t i, n = id != NULL ? strlen(id) : 0;

	if (n == 0 || n > NC_BOX_ID_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		const char c = id[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return strcmp(id, ".") != 0 && strcmp(id, "..") != 0;
}

/* snprintf into a PATH_MAX buffer; -ENAMETOOLONG on truncation. */
static int pathf(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int pathf(char *out, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, PATH_MAX, fmt, ap);
	va_end(ap);
	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

/* mkdir -p @rel below @root, mode 0755. */
static int mkdirs(const char *root, const char *rel)
{
	char p[PATH_MAX], *s;
	int ret = pathf(p, "%s/%s", root, rel);

	if (ret < 0)
		return ret;
	for (s = p + strlen(root) + 1; ; s++) {
		const char c = *s;

		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -errno;
		*s = c;
		if (c == '\0')
			return 0;
	}
}

/* Copy the regular file @src to the new file @dst, mode @mode. */
static int copy_file(const char *src, const char *dst, mode_t mode)
{
	struct stat st;
	int in, out = -1, ret = 0;
	off_t left;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	if (fstat(in, &st) < 0) {
		ret = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		goto out;
	}
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (out < 0) {
		ret = -errno;
		goto out;
	}
	for (left = st.st_size; left > 0; ) {
		ssize_t k = sendfile(out, in, NULL, (size_t)left);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			ret = k < 0 ? -errno : -EIO;
			goto out;
		}
		left -= k;
	}
	if (fchmod(out, mode) < 0)	/* whatever the umask said */
		ret = -errno;
out:
	if (out >= 0 && close(out) < 0 && ret == 0)
		ret = -errno;
	close(in);
	return ret;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if ((flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* rm -rf @path, without following symbolic links or crossing mounts. */
static int rm_tree(const char *path)
{
	int ret = nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);

	if (ret == -1)
		return errno == ENOENT ? 0 : -errno;
	return ret;
}

/* Remove the bundle @dir if it holds nothing but what nc_box_create()
 * writes (or nothing). 0 when it is gone (or was never there), -ENOTEMPTY
 * when it holds something else, -ENOTDIR, -errno. */
static int bundle_remove(const char *dir)
{
	static const char *const ours[] = { "rootfs", "config.json", "ctl" };
	struct dirent *e;
	int ret = 0;
	size_t i;
	DIR *d = opendir(dir);

	if (d == NULL)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		for (i = 0; i < NF_ARRAY_SIZE(ours); i++)
			if (strcmp(e->d_name, ours[i]) == 0)
				break;
		if (i == NF_ARRAY_SIZE(ours))
			ret = -ENOTEMPTY;
	}
	closedir(d);
	return ret < 0 ? ret : rm_tree(dir);
}

/* ------------------------------------------------------------------ */
/* ELF: the interpreter and the libraries a program needs              */
/* ------------------------------------------------------------------ */

struct box_elf {
	uint16_t machine;
	char interp[PATH_MAX];		/* "" for a static program */
	char search[PATH_MAX];		/* DT_RUNPATH or DT_RPATH */
	int runpath;			/* search is a RUNPATH (else an RPATH) */
	char names[4096];		/* DT_NEEDED, each NUL-terminated */
	size_t nlen;
};

struct box_lib {
	char name[NAME_MAX + 1];	/* as DT_NEEDED says: the name inside /lib */
	char path[PATH_MAX];		/* where it was found on the host */
};

struct box_deps {
	char interp[PATH_MAX];		/* the interpreter's host path ("" none) */
	struct box_lib lib[BOX_LIBS_MAX];
	unsigned n;
	int san;			/* links a sanitizer runtime */
};

static int rd(int fd, void *buf, size_t len, uint64_t off)
{
	ssize_t k = pread(fd, buf, len, (off_t)off);

	if (k < 0)
		return -errno;
	return (size_t)k == len ? 0 : -ENOEXEC;
}

/* File offset of virtual address @va, from the PT_LOAD headers. */
static int va_off(const Elf64_Phdr *ph, unsigned n, uint64_t va, uint64_t *off)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (ph[i].p_type == PT_LOAD && va >= ph[i].p_vaddr &&
		    va - ph[i].p_vaddr < ph[i].p_filesz) {
			*off = va - ph[i].p_vaddr + ph[i].p_offset;
			return 0;
		}
	return -ENOEXEC;
}

/* Read the dynamic section of @fd: DT_NEEDED names, RUNPATH / RPATH. */
static int elf_dynamic(int fd, const Elf64_Phdr *ph, unsigned nph,
		       const Elf64_Phdr *dyn, struct box_elf *e)
{
	Elf64_Dyn *d = NULL;
	uint64_t strva = 0, strsz = 0, stroff, need[256], path = UINT64_MAX;
	unsigned nd, nneed = 0, i;
	char *str = NULL;
	int ret;

	if (dyn->p_filesz > 64 * 1024)
		return -ENOEXEC;
	nd = (unsigned)(dyn->p_filesz / sizeof(*d));
	d = malloc(nd * sizeof(*d) + 1);
	if (d == NULL)
		return -ENOMEM;
	ret = rd(fd, d, nd * sizeof(*d), dyn->p_offset);
	for (i = 0; ret == 0 && i < nd && d[i].d_tag != DT_NULL; i++) {
		switch (d[i].d_tag) {
		case DT_STRTAB: strva = d[i].d_un.d_ptr; break;
		case DT_STRSZ: strsz = d[i].d_un.d_val; break;
		case DT_NEEDED:
			if (nneed == NF_ARRAY_SIZE(need))
				ret = -E2BIG;
			else
				need[nneed++] = d[i].d_un.d_val;
			break;
		case DT_RUNPATH: path = d[i].d_un.d_val; e->runpath = 1; break;
		case DT_RPATH: if (!e->runpath) path = d[i].d_un.d_val; break;
		}
	}
	if (ret < 0)
		goto out;
	if (strsz == 0 || strsz > (16u << 20) || va_off(ph, nph, strva, &stroff) < 0) {
		ret = nneed == 0 && path == UINT64_MAX ? 0 : -ENOEXEC;
		goto out;
	}
	str = malloc(strsz + 1);
	if (str == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	ret = rd(fd, str, strsz, stroff);
	if (ret < 0)
		goto out;
	str[strsz] = '\0';
	for (i = 0; i < nneed; i++) {
		size_t l;

		if (need[i] >= strsz) {
			ret = -ENOEXEC;
			goto out;
		}
		l = strlen(str + need[i]) + 1;
		if (e->nlen + l > sizeof(e->names) || l > NAME_MAX + 1) {
			ret = -E2BIG;
			goto out;
		}
		memcpy(e->names + e->nlen, str + need[i], l);
		e->nlen += l;
	}
	if (path != UINT64_MAX && (path >= strsz ||
	    nf_strlcpy(e->search, str + path, sizeof(e->search)) >= sizeof(e->search)))
		ret = -ENOEXEC;
out:
	free(str);
	free(d);
	return ret;
}

/* Read the ELF headers of @path into @e. -ENOEXEC when it is not a 64-bit
 * ELF file of this machine's byte order for the machine @machine. */
static int elf_read(const char *path, uint16_t machine, struct box_elf *e)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph[64];
	unsigned i, n;
	int fd, ret;

	memset(e, 0, sizeof(*e));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = rd(fd, &eh, sizeof(eh), 0);
	if (ret < 0)
		goto out;
	ret = -ENOEXEC;
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ?
				    ELFDATA2LSB : ELFDATA2MSB) ||
	    (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) ||
	    eh.e_machine != machine ||
	    eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > NF_ARRAY_SIZE(ph))
		goto out;
	e->machine = eh.e_machine;
	n = eh.e_phnum;
	ret = rd(fd, ph, n * sizeof(ph[0]), eh.e_phoff);
	if (ret < 0)
		goto out;
	for (i = 0; i < n && ret == 0; i++) {
		if (ph[i].p_type == PT_INTERP) {
			if (ph[i].p_filesz < 2 || ph[i].p_filesz > sizeof(e->interp)) {
				ret = -ENOEXEC;
				break;
			}
			ret = rd(fd, e->interp, ph[i].p_filesz, ph[i].p_offset);
			if (ret == 0 && (e->interp[ph[i].p_filesz - 1] != '\0' ||
					 e->interp[0] != '/'))
				ret = -ENOEXEC;
		} else if (ph[i].p_type == PT_DYNAMIC) {
			ret = elf_dynamic(fd, ph, n, &ph[i], e);
		}
	}
out:
	close(fd);
	return ret;
}

/* Is @dir/@name an ELF library for @machine? Then its path is in @out. */
static int lib_at(const char *dir, size_t dlen, const char *name, uint16_t machine,
		  char *out, struct box_elf *tmp)
{
	if (dlen == 0 || snprintf(out, PATH_MAX, "%.*s/%s", (int)dlen, dir, name) >= PATH_MAX)
		return 0;
	return access(out, R_OK) == 0 && elf_read(out, machine, tmp) == 0;
}

/* Each directory of the ':' list @list ($ORIGIN is @origin). */
static int lib_in_list(const char *list, const char *origin, const char *name,
		       uint16_t machine, char *out, struct box_elf *tmp)
{
	char d[PATH_MAX];
	const char *s = list;

	while (*s != '\0') {
		size_t l = strcspn(s, ":");
		const char *o = NULL;

		if (l >= 7 && strncmp(s, "$ORIGIN", 7) == 0)
			o = s + 7;
		else if (l >= 9 && strncmp(s, "${ORIGIN}", 9) == 0)
			o = s + 9;
		if (o != NULL) {
			if (snprintf(d, sizeof(d), "%s%.*s", origin, (int)(l - (size_t)(o - s)),
				     o) < (int)sizeof(d) &&
			    lib_at(d, strlen(d), name, machine, out, tmp))
				return 1;
		} else if (lib_at(s, l, name, machine, out, tmp)) {
			return 1;
		}
		s += l + (s[l] == ':');
	}
	return 0;
}

/* Find the library @name needed by the object @from (its ELF in @fe) as
 * ld.so would: RPATH (when there is no RUNPATH), RUNPATH, the directories
 * of /etc/ld.so.conf.d, the interpreter's directory, the default ones. */
static int lib_find(const char *name, const char *from, const struct box_elf *fe,
		    const char *interp_dir, char *out, struct box_elf *tmp)
{
	static const char *const defaults[] = { "/lib64", "/usr/lib64", "/lib", "/usr/lib" };
	char origin[PATH_MAX], line[PATH_MAX];
	const char *slash = strrchr(from, '/');
	glob_t g;
	size_t i;
	int found = 0;

	snprintf(origin, sizeof(origin), "%.*s", slash != NULL ? (int)(slash - from) : 1,
		 slash != NULL ? from : ".");
	if (fe->search[0] != '\0' &&
	    lib_in_list(fe->search, origin, name, fe->machine, out, tmp))
		return 1;
	if (glob("/etc/ld.so.conf.d/*.conf", 0, NULL, &g) == 0) {
		for (i = 0; i < g.gl_pathc && !found; i++) {
			FILE *f = fopen(g.gl_pathv[i], "re");

			while (f != NULL && !found && fgets(line, sizeof(line), f) != NULL) {
				line[strcspn(line, " \t\r\n#")] = '\0';
				found = line[0] == '/' &&
					lib_at(line, strlen(line), name, fe->machine, out, tmp);
			}
			if (f != NULL)
				fclose(f);
		}
		globfree(&g);
	}
	if (found)
		return 1;
	if (interp_dir[0] != '\0' &&
	    lib_at(interp_dir, strlen(interp_dir), name, fe->machine, out, tmp))
		return 1;
	for (i = 0; i < NF_ARRAY_SIZE(defaults); i++)
		if (lib_at(defaults[i], strlen(defaults[i]), name, fe->machine, out, tmp))
			return 1;
	return 0;
}

/* The interpreter and every library @prog needs, all levels. */
static int deps_find(const char *prog, struct box_deps *d, char *err, size_t errlen)
{
	struct box_elf *e = malloc(2 * sizeof(*e)), *tmp;
	char interp_dir[PATH_MAX] = "", *s;
	unsigned next = 0;
	const char *from = prog, *nm, *interp_name;
	int ret;

	if (e == NULL)
		return say(err, errlen, -ENOMEM, "out of memory");
	tmp = e + 1;
	memset(d, 0, sizeof(*d));
	ret = elf_read(prog, BOX_MACHINE, e);
	if (ret < 0) {
		ret = say(err, errlen, ret, "%s: %s", prog, ret == -ENOEXEC ?
			  "not a 64-bit ELF program of this machine" : strerror(-ret));
		goto out;
	}
	if (e->interp[0] != '\0') {
		if (realpath(e->interp, d->interp) == NULL) {
			ret = say(err, errlen, -errno, "%s: interpreter %s: %s", prog,
				  e->interp, strerror(errno));
			goto out;
		}
		nf_strlcpy(interp_dir, d->interp, sizeof(interp_dir));
		s = strrchr(interp_dir, '/');
		*s = '\0';
		/* the path inside is the one the ELF names */
		nf_strlcpy(d->interp, e->interp, sizeof(d->interp));
	}
	s = strrchr(d->interp, '/');
	interp_name = s != NULL ? s + 1 : "";
	for (;;) {
		for (nm = e->names; nm < e->names + e->nlen; nm += strlen(nm) + 1) {
			unsigned i;

			for (i = 0; i < d->n && strcmp(d->lib[i].name, nm) != 0; i++)
				;
			/* libc needs ld.so: the interpreter, loaded already */
			if (i < d->n || strcmp(nm, interp_name) == 0)
				continue;
			if (d->n == BOX_LIBS_MAX) {
				ret = say(err, errlen, -E2BIG, "%s: more than %d libraries",
					  prog, BOX_LIBS_MAX);
				goto out;
			}
			if (strchr(nm, '/') != NULL) {
				ret = say(err, errlen, -EINVAL, "%s: library named by a path (%s)",
					  from, nm);
				goto out;
			}
			if (!lib_find(nm, from, e, interp_dir, d->lib[d->n].path, tmp)) {
				ret = say(err, errlen, -ENOENT, "%s: library %s (needed by %s) "
					  "not found", prog, nm, from);
				goto out;
			}
			nf_strlcpy(d->lib[d->n].name, nm, sizeof(d->lib[0].name));
			if (strncmp(nm, "libasan.", 8) == 0 || strncmp(nm, "libubsan.", 9) == 0)
				d->san = 1;
			d->n++;
		}
		if (next == d->n)
			break;
		from = d->lib[next++].path;
		ret = elf_read(from, e->machine, e);
		if (ret < 0) {
			ret = say(err, errlen, ret, "%s: %s", from, strerror(-ret));
			goto out;
		}
	}
	ret = 0;
out:
	free(e);
	return ret;
}

/* ------------------------------------------------------------------ */
/* config.json                                                         */
/* ------------------------------------------------------------------ */

static struct json_object *jstrs(const char *const *v)
{
	struct json_object *a = json_object_new_array();

	for (; v != NULL && *v != NULL; v++)
		json_object_array_add(a, json_object_new_string(*v));
	return a;
}

static void jset(struct json_object *o, const char *k, struct json_object *v)
{
	json_object_object_add(o, k, v);
}

static struct json_object *jmount(const char *dst, const char *type, const char *src,
				  const char *const *opts)
{
	struct json_object *m = json_object_new_object();

	jset(m, "destination", json_object_new_string(dst));
	jset(m, "type", json_object_new_string(type));
	jset(m, "source", json_object_new_string(src));
	jset(m, "options", jstrs(opts));
	return m;
}

static struct json_object *jrlimit(const char *type, uint64_t v)
{
	struct json_object *r = json_object_new_object();

	jset(r, "type", json_object_new_string(type));
	jset(r, "hard", json_object_new_int64((int64_t)v));
	jset(r, "soft", json_object_new_int64((int64_t)v));
	return r;
}

static struct json_object *jseccomp(int san, int log)
{
	static const char *const arch[] = { BOX_SCMP_ARCH, NULL };
	struct json_object *s = json_object_new_object(), *calls = json_object_new_array();
	struct json_object *allow = json_object_new_array(), *o, *a, *arg;
	size_t i;

	for (i = 0; i < NF_ARRAY_SIZE(box_syscalls); i++) {
		const struct box_sys *c = &box_syscalls[i];

		if (c->who == BOX_SAN && !san)
			continue;
		if (c->rule == R_ALLOW) {
			json_object_array_add(allow, json_object_new_string(c->name));
			continue;
		}
		o = json_object_new_object();
		jset(o, "names", jstrs((const char *const[]){ c->name, NULL }));
		if (c->rule == R_ENOSYS) {
			jset(o, "action", json_object_new_string("SCMP_ACT_ERRNO"));
			jset(o, "errnoRet", json_object_new_int(ENOSYS));
		} else {
			jset(o, "action", json_object_new_string("SCMP_ACT_ALLOW"));
			a = json_object_new_array();
			arg = json_object_new_object();
			jset(arg, "index", json_object_new_int(0));
			if (c->rule == R_AF_UNIX) {
				jset(arg, "value", json_object_new_int(AF_UNIX));
				jset(arg, "op", json_object_new_string("SCMP_CMP_EQ"));
			} else {
				jset(arg, "value", json_object_new_int64((int64_t)BOX_CLONE_NS));
				jset(arg, "valueTwo", json_object_new_int(0));
				jset(arg, "op", json_object_new_string("SCMP_CMP_MASKED_EQ"));
			}
			json_object_array_add(a, arg);
			jset(o, "args", a);
		}
		json_object_array_add(calls, o);
	}
	o = json_object_new_object();
	jset(o, "names", allow);
	jset(o, "action", json_object_new_string("SCMP_ACT_ALLOW"));
	json_object_array_add(calls, o);
	jset(s, "defaultAction", json_object_new_string(log ? "SCMP_ACT_LOG" : "SCMP_ACT_ERRNO"));
	jset(s, "defaultErrnoRet", json_object_new_int(EPERM));
	jset(s, "architectures", jstrs(arch));
	jset(s, "syscalls", calls);
	return s;
}

static struct json_object *box_config(const struct nc_box *b, const struct box_deps *d,
				      const char *prog_in, const char *sock, const char *ctldir)
{
	static const char *const masked[] = { "/proc/acpi", "/proc/asound", "/proc/kcore",
		"/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
		"/proc/sched_debug", "/proc/scsi", NULL };
	static const char *const ro_paths[] = { "/proc/bus", "/proc/fs", "/proc/irq",
		"/proc/sys", "/proc/sysrq-trigger", NULL };
	static const char *const caps[] = { "bounding", "effective", "inheritable",
		"permitted", "ambient" };
	static const char *const ns[] = { "mount", "pid", "ipc", "uts", "network" };
	static const char *const swap_v1 = "/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes";
	static const char *const swap_v2 = "/sys/fs/cgroup/cgroup.controllers";
	struct json_object *c = json_object_new_object(), *p, *o, *a, *lx, *res;
	char cg[sizeof(BOX_CG_PREFIX) + NC_BOX_ID_MAX];
	size_t i;

	jset(c, "ociVersion", json_object_new_string("1.0.2"));
	jset(c, "hostname", json_object_new_string(b->id));
	o = json_object_new_object();
	jset(o, "path", json_object_new_string("rootfs"));
	jset(o, "readonly", json_object_new_boolean(1));
	jset(c, "root", o);

	p = json_object_new_object();
	jset(p, "terminal", json_object_new_boolean(0));
	o = json_object_new_object();
	jset(o, "uid", json_object_new_int(0));
	jset(o, "gid", json_object_new_int(0));
	jset(p, "user", o);
	a = jstrs((const char *const[]){ prog_in, NULL });
	for (i = 0; b->args != NULL && b->args[i] != NULL; i++)
		json_object_array_add(a, json_object_new_string(b->args[i]));
	jset(p, "args", a);
	a = jstrs((const char *const[]){ "PATH=/bin", NULL });
	for (i = 0; b->env != NULL && b->env[i] != NULL; i++)
		json_object_array_add(a, json_object_new_string(b->env[i]));
	jset(p, "env", a);
	jset(p, "cwd", json_object_new_string("/"));
	o = json_object_new_object();
	for (i = 0; i < NF_ARRAY_SIZE(caps); i++)
		jset(o, caps[i], json_object_new_array());
	jset(p, "capabilities", o);
	a = json_object_new_array();
	json_object_array_add(a, jrlimit("RLIMIT_NOFILE", BOX_NOFILE));
	json_object_array_add(a, jrlimit("RLIMIT_CORE", 0));
	json_object_array_add(a, jrlimit("RLIMIT_MSGQUEUE", 0));
	jset(p, "rlimits", a);
	jset(p, "noNewPrivileges", json_object_new_boolean(1));
	jset(c, "process", p);

	a = json_object_new_array();
	json_object_array_add(a, jmount("/proc", "proc", "proc",
		(const char *const[]){ "nosuid", "noexec", "nodev", NULL }));
	json_object_array_add(a, jmount("/dev", "tmpfs", "tmpfs",
		(const char *const[]){ "nosuid", "noexec", "strictatime", "mode=755",
				       "size=64k", NULL }));
	json_object_array_add(a, jmount(NC_BOX_SOCK, "bind", sock,
		(const char *const[]){ "bind", "nosuid", "noexec", "nodev", "ro", NULL }));
	json_object_array_add(a, jmount(NC_BOX_CTLDIR, "bind", ctldir,
		(const char *const[]){ "bind", "nosuid", "noexec", "nodev", NULL }));
	jset(c, "mounts", a);

	lx = json_object_new_object();
	a = json_object_new_array();
	for (i = 0; i < NF_ARRAY_SIZE(ns); i++) {
		o = json_object_new_object();
		jset(o, "type", json_object_new_string(ns[i]));
		json_object_array_add(a, o);
	}
	jset(lx, "namespaces", a);
	snprintf(cg, sizeof(cg), BOX_CG_PREFIX "%s", b->id);
	jset(lx, "cgroupsPath", json_object_new_string(cg));
	res = json_object_new_object();
	a = json_object_new_array();
	o = json_object_new_object();
	jset(o, "allow", json_object_new_boolean(0));
	jset(o, "access", json_object_new_string("rwm"));
	json_object_array_add(a, o);
	jset(res, "devices", a);
	if (b->mem_bytes != 0) {
		o = json_object_new_object();
		jset(o, "limit", json_object_new_int64((int64_t)b->mem_bytes));
		if (access(swap_v1, F_OK) == 0 || access(swap_v2, F_OK) == 0)
			jset(o, "swap", json_object_new_int64((int64_t)b->mem_bytes));
		jset(res, "memory", o);
	}
	if (b->cpu_milli != 0 || b->cpus != NULL) {
		o = json_object_new_object();
		if (b->cpu_milli != 0) {
			jset(o, "quota", json_object_new_int64((int64_t)b->cpu_milli *
							       (BOX_PERIOD_US / 1000)));
			jset(o, "period", json_object_new_int64(BOX_PERIOD_US));
		}
		if (b->cpus != NULL)
			jset(o, "cpus", json_object_new_string(b->cpus));
		jset(res, "cpu", o);
	}
	o = json_object_new_object();
	jset(o, "limit", json_object_new_int64(BOX_PIDS_MAX));
	jset(res, "pids", o);
	jset(lx, "resources", res);
	jset(lx, "maskedPaths", jstrs(masked));
	jset(lx, "readonlyPaths", jstrs(ro_paths));
	jset(lx, "seccomp", jseccomp(d->san, b->seccomp_log));
	jset(c, "linux", lx);
	return c;
}

/* ------------------------------------------------------------------ */
/* The bundle                                                          */
/* ------------------------------------------------------------------ */

static int check_input(const struct nc_box *b, char *err, size_t n)
{
	char p[PATH_MAX];
	struct stat st;
	size_t i;

	if (!id_ok(b->id))
		return say(err, n, -EINVAL, "container id '%s': expected 1..%d of "
			   "[A-Za-z0-9_.-]", b->id ? b->id : "", NC_BOX_ID_MAX);
	if (b->dir == NULL || b->prog == NULL || b->conf == NULL || b->sock == NULL)
		return say(err, n, -EINVAL, "a bundle directory, a program, a "
			   "configuration and a socket are needed");
	if (pathf(p, NC_BOX_RUNC_ROOT "/%s", b->id) == 0 && access(p, F_OK) == 0)
		return say(err, n, -EEXIST, "container %s exists (%s; nc_box_destroy / "
			   "nfchain container rm removes it)", b->id, p);
	if (b->cpu_milli != 0 && (b->cpu_milli < 10 || b->cpu_milli > 1000000))
		return say(err, n, -EINVAL, "CPU limit %u: expected 10..1000000 thousandths "
			   "of a core (0: none)", b->cpu_milli);
	if (b->mem_bytes != 0 && b->mem_bytes < (4u << 20))
		return say(err, n, -EINVAL, "memory limit %" PRIu64 ": expected at least "
			   "4 MiB (0: none)", b->mem_bytes);
	if (b->cpus != NULL && (b->cpus[0] == '\0' ||
				strspn(b->cpus, "0123456789,-") != strlen(b->cpus)))
		return say(err, n, -EINVAL, "cpuset '%s': expected a list such as 1 or 0-1,3",
			   b->cpus);
	for (i = 0; b->env != NULL && b->env[i] != NULL; i++)
		if (strchr(b->env[i], '=') == NULL || b->env[i][0] == '=')
			return say(err, n, -EINVAL, "environment '%s': expected NAME=VALUE",
				   b->env[i]);
	if (stat(b->prog, &st) < 0)
		return say(err, n, -errno, "program %s: %s", b->prog, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return say(err, n, -EINVAL, "program %s: not a file", b->prog);
	if (stat(b->conf, &st) < 0 || !S_ISREG(st.st_mode))
		return say(err, n, -ENOENT, "configuration %s: not a readable file", b->conf);
	for (i = 0; b->files != NULL && b->files[i] != NULL; i++)
		if (stat(b->files[i], &st) < 0 || !S_ISREG(st.st_mode))
			return say(err, n, -ENOENT, "file %s: not a readable file", b->files[i]);
	if (stat(b->sock, &st) < 0 || !S_ISSOCK(st.st_mode))
		return say(err, n, -ENOTSOCK, "memif socket %s: not a socket (is the "
			   "switch running?)", b->sock);
	if (b->ctldir != NULL && (stat(b->ctldir, &st) < 0 || !S_ISDIR(st.st_mode)))
		return say(err, n, -ENOTDIR, "control directory %s: not a directory",
			   b->ctldir);
	return 0;
}

/* rootfs/: the program, the interpreter, the libraries, the files, the
 * mount points. */
static int fill_rootfs(const struct nc_box *b, const struct box_deps *d, const char *root,
		       const char *prog_in, char *err, size_t n)
{
	static const char *const dirs[] = { "proc", "dev", "bin", "lib", "etc/nfchain",
					    "run/nfchain/ctl" };
	char p[PATH_MAX], src[PATH_MAX];
	const char *base;
	size_t i;
	int ret = 0, fd;

	for (i = 0; i < NF_ARRAY_SIZE(dirs) && ret == 0; i++)
		ret = mkdirs(root, dirs[i]);
	if (ret < 0)
		return say(err, n, ret, "%s: %s", root, strerror(-ret));
	if ((ret = pathf(p, "%s%s", root, prog_in)) < 0 ||
	    (ret = copy_file(b->prog, p, 0555)) < 0)
		return say(err, n, ret, "copy %s: %s", b->prog, strerror(-ret));
	if (d->interp[0] != '\0') {
		/* at the path the ELF names, from the file it resolves to */
		if (realpath(d->interp, src) == NULL)
			return say(err, n, -errno, "%s: %s", d->interp, strerror(errno));
		nf_strlcpy(p, d->interp, sizeof(p));
		*strrchr(p, '/') = '\0';
		if (p[0] != '\0' && (ret = mkdirs(root, p + 1)) < 0)
			return say(err, n, ret, "%s%s: %s", root, p, strerror(-ret));
		if ((ret = pathf(p, "%s%s", root, d->interp)) < 0 ||
		    (ret = copy_file(src, p, 0555)) < 0)
			return say(err, n, ret, "copy %s: %s", src, strerror(-ret));
	}
	for (i = 0; i < d->n; i++) {
		if ((ret = pathf(p, "%s/lib/%s", root, d->lib[i].name)) < 0)
			return say(err, n, ret, "%s: name too long", d->lib[i].name);
		ret = copy_file(d->lib[i].path, p, 0555);
		if (ret == -EEXIST)	/* the interpreter, already there */
			ret = 0;
		if (ret < 0)
			return say(err, n, ret, "copy %s: %s", d->lib[i].path, strerror(-ret));
	}
	if ((ret = pathf(p, "%s%s", root, NC_BOX_CONF)) < 0 ||
	    (ret = copy_file(b->conf, p, 0444)) < 0)
		return say(err, n, ret, "copy %s: %s", b->conf, strerror(-ret));
	for (i = 0; b->files != NULL && b->files[i] != NULL; i++) {
		base = strrchr(b->files[i], '/');
		base = base != NULL ? base + 1 : b->files[i];
		if ((ret = pathf(p, "%s" NC_BOX_FILEDIR "/%s", root, base)) < 0 ||
		    (ret = copy_file(b->files[i], p, 0444)) < 0)
			return say(err, n, ret, "copy %s: %s%s", b->files[i], strerror(-ret),
				   ret == -EEXIST ? " (two files of that name?)" : "");
	}
	/* the socket's mount point: an empty file */
	if ((ret = pathf(p, "%s%s", root, NC_BOX_SOCK)) < 0)
		return say(err, n, ret, "%s: name too long", root);
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (fd < 0)
		return say(err, n, -errno, "%s: %s", p, strerror(errno));
	close(fd);
	return 0;
}

int nc_box_create(const struct nc_box *b, char *err, size_t errlen)
{
	struct box_deps *d = NULL;
	struct json_object *cfg = NULL;
	char root[PATH_MAX], p[PATH_MAX], ctl[PATH_MAX], prog_in[PATH_MAX], sock[PATH_MAX];
	const char *base;
	int ret, made = 0;

	ret = check_input(b, err, errlen);
	if (ret < 0)
		return ret;
	base = strrchr(b->prog, '/');
	base = base != NULL ? base + 1 : b->prog;
	if (pathf(root, "%s/rootfs", b->dir) < 0 || pathf(prog_in, "/bin/%s", base) < 0 ||
	    pathf(ctl, "%s/ctl", b->dir) < 0)
		return say(err, errlen, -ENAMETOOLONG, "%s: name too long", b->dir);
	d = malloc(sizeof(*d));
	if (d == NULL)
		return say(err, errlen, -ENOMEM, "out of memory");
	ret = deps_find(b->prog, d, err, errlen);
	if (ret < 0)
		goto fail;
	ret = bundle_remove(b->dir);
	if (ret < 0) {
		ret = say(err, errlen, ret == -ENOTEMPTY ? -EEXIST : ret,
			  "%s exists and is not a bundle: %s", b->dir,
			  ret == -ENOTEMPTY ? "it holds other files" : strerror(-ret));
		goto fail;
	}
	if (mkdir(b->dir, 0700) < 0) {
		ret = say(err, errlen, -errno, "%s: %s", b->dir, strerror(errno));
		goto fail;
	}
	made = 1;
	if (mkdir(root, 0755) < 0 || (b->ctldir == NULL && mkdir(ctl, 0700) < 0)) {
		ret = say(err, errlen, -errno, "%s: %s", b->dir, strerror(errno));
		goto fail;
	}
	ret = fill_rootfs(b, d, root, prog_in, err, errlen);
	if (ret < 0)
		goto fail;
	/* runc takes a relative mount source as relative to the bundle */
	if (realpath(b->sock, sock) == NULL ||
	    realpath(b->ctldir != NULL ? b->ctldir : ctl, ctl) == NULL) {
		ret = say(err, errlen, -errno, "%s: %s", b->ctldir != NULL ? b->ctldir : ctl,
			  strerror(errno));
		goto fail;
	}
	cfg = box_config(b, d, prog_in, sock, ctl);
	if (pathf(p, "%s/config.json", b->dir) < 0 ||
	    json_object_to_file_ext(p, cfg, JSON_C_TO_STRING_PRETTY |
				    JSON_C_TO_STRING_NOSLASHESCAPE) < 0) {
		ret = say(err, errlen, -EIO, "%s/config.json: %s", b->dir,
			  json_util_get_last_err());
		goto fail;
	}
	json_object_put(cfg);
	free(d);
	return 0;
fail:
	json_object_put(cfg);
	free(d);
	if (made)
		rm_tree(b->dir);
	return ret;
}

int nc_box_argv(const struct nc_box *b, const char **argv, size_t n)
{
	const char *const v[] = { "runc", "--root", NC_BOX_RUNC_ROOT, "run", "--bundle",
				  b->dir, b->id, NULL };

	if (n < NF_ARRAY_SIZE(v))
		return -ENOSPC;
	memcpy(argv, v, sizeof(v));
	return 0;
}

/* ------------------------------------------------------------------ */
/* Removal                                                             */
/* ------------------------------------------------------------------ */

/* Run @argv with no input and no output; its exit status, or -errno. */
static int run_quiet(const char *const *argv)
{
	int st, fd;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Kill what is left in the cgroup directory @cg, then remove it. */
static int cg_remove(const char *cg)
{
	char p[PATH_MAX];
	int i, ret = 0;

	if (access(cg, F_OK) < 0)
		return 0;
	if (pathf(p, "%s/freezer.state", cg) == 0 && access(p, F_OK) == 0) {
		FILE *f = fopen(p, "we");	/* a frozen task cannot die */

		if (f != NULL) {
			fputs("THAWED", f);
			fclose(f);
		}
	}
	for (i = 0; i < 100; i++) {
		FILE *f;
		long pid;
		int any = 0;

		if (pathf(p, "%s/cgroup.procs", cg) < 0)
			return -ENAMETOOLONG;
		f = fopen(p, "re");
		while (f != NULL && fscanf(f, "%ld", &pid) == 1) {
			if (pid > 0)
				kill((pid_t)pid, SIGKILL);
			any = 1;
		}
		if (f != NULL)
			fclose(f);
		if (!any && rmdir(cg) == 0)
			return 0;
		if (!any && errno == ENOENT)
			return 0;
		ret = -errno;
		sleep_ms(20);
	}
	return ret < 0 ? ret : -EBUSY;
}

/* Is @tok one of the comma-separated words of @list? */
static int has_word(const char *list, const char *tok)
{
	size_t n = strlen(tok);
	const char *s = list;

	while (*s != '\0') {
		size_t l = strcspn(s, ",");

		if (l == n && strncmp(s, tok, n) == 0)
			return 1;
		s += l + (s[l] == ',');
	}
	return 0;
}

/* Does the mountinfo line @mi mount the hierarchy of the controllers
 * @ctrl ("cpu,cpuacct", "name=systemd"; "" for cgroup v2)? Its root and
 * mount point then go to @root and @mnt. */
static int cg_mount(char *mi, const char *ctrl, char *root, char *mnt)
{
	char type[64], opts[512], want[256], *tok, *save, *dash = strstr(mi, " - ");

	if (dash == NULL || sscanf(mi, "%*s %*s %*s %511s %511s", root, mnt) != 2 ||
	    sscanf(dash + 3, "%63s %*s %511s", type, opts) != 2)
		return 0;
	if (ctrl[0] == '\0')
		return strcmp(type, "cgroup2") == 0;
	if (strcmp(type, "cgroup") != 0)
		return 0;
	nf_strlcpy(want, ctrl, sizeof(want));
	for (tok = strtok_r(want, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save))
		if (!has_word(opts, tok))
			return 0;
	return 1;
}

/* The container's cgroups: "nfchain-ID" below this process's cgroup in
 * every hierarchy (/proc/self/cgroup), where /proc/self/mountinfo says
 * the hierarchy is mounted. */
static int cg_sweep(const char *id)
{
	char line[1024], mi[1024], root[512], mnt[512], cg[PATH_MAX];
	FILE *f = fopen("/proc/self/cgroup", "re"), *m;
	int ret = 0, r;

	if (f == NULL)
		return -errno;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *ctrl = strchr(line, ':'), *path;

		if (ctrl == NULL || (path = strchr(++ctrl, ':')) == NULL)
			continue;
		*path++ = '\0';
		path[strcspn(path, "\n")] = '\0';
		m = fopen("/proc/self/mountinfo", "re");
		while (m != NULL && fgets(mi, sizeof(mi), m) != NULL) {
			const char *rel = path;
			size_t rl;

			if (!cg_mount(mi, ctrl, root, mnt))
				continue;
			rl = strlen(root);
			if (strcmp(root, "/") != 0 && strncmp(path, root, rl) == 0)
				rel = path + rl;
			if (strcmp(rel, "/") == 0)
				rel = "";
			if (pathf(cg, "%s%s/" BOX_CG_PREFIX "%s", mnt, rel, id) < 0)
				continue;
			r = cg_remove(cg);
			if (r < 0 && ret == 0) {
				nf_set_error("cannot remove cgroup %s: %s", cg, strerror(-r));
				ret = r;
			}
		}
		if (m != NULL)
			fclose(m);
	}
	fclose(f);
	return ret;
}

int nc_box_destroy(const char *id, const char *dir)
{
	char state[PATH_MAX];
	int ret = 0, r;

	if (!id_ok(id)) {
		nf_set_error("container id '%s': expected 1..%d of [A-Za-z0-9_.-]",
			     id ? id : "", NC_BOX_ID_MAX);
		return -EINVAL;
	}
	if (pathf(state, NC_BOX_RUNC_ROOT "/%s", id) < 0)
		return -ENAMETOOLONG;
	if (access(state, F_OK) == 0) {
		const char *const argv[] = { "runc", "--root", NC_BOX_RUNC_ROOT, "delete",
					     "--force", id, NULL };

		run_quiet(argv);	/* what it could not do is done below */
	}
	r = cg_sweep(id);
	if (r < 0)
		ret = r;
	if (access(state, F_OK) == 0) {	/* runc could not: its processes are gone now */
		r = rm_tree(state);
		if (r < 0 && ret == 0) {
			nf_set_error("cannot remove %s: %s", state, strerror(-r));
			ret = r;
		}
	}
	if (dir != NULL) {
		r = bundle_remove(dir);
		if (r < 0 && ret == 0) {
			nf_set_error("cannot remove the bundle %s: %s", dir,
				     r == -ENOTEMPTY ? "it holds files that are not a bundle's"
						     : strerror(-r));
			ret = r;
		}
	}
	return ret;
}
