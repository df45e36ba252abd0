/* box.h - one VNF replica as an OCI container run by runc.
 *
 * nc_box_create() writes a bundle: a root file system holding only the
 * program, the shared libraries it needs (read from its ELF headers), the
 * configuration and the mount points, and a config.json that gives the
 * process new mount, PID, IPC, UTS and network namespaces, no
 * capabilities, no new privileges, a seccomp allowlist, a read-only root,
 * CPU and memory limits; the switch's memif socket and a control directory
 * are its only ways out. nc_box_argv() gives the runc command that runs it
 * in the foreground; nc_box_destroy() removes every trace of it.
 * docs/DESIGN.md "Containers" says what is isolated and what is not.
 */
#ifndef NC_BOX_H
#define NC_BOX_H

#include <stddef.h>
#include <stdint.h>

#define NC_BOX_SOCK      "/run/nfchain/sw.sock"	/* the switch's memif socket, inside */
#define NC_BOX_CTLDIR    "/run/nfchain/ctl"	/* rw dir for the VNF's control socket, inside */
#define NC_BOX_CONF      "/etc/nfchain/vnf.conf"	/* the VNF config, inside, read-only */
#define NC_BOX_FILEDIR   "/etc/nfchain"		/* where nc_box.files go, inside, read-only */
#define NC_BOX_RUNC_ROOT "/run/nfchain/runc"	/* runc's state directory (--root) */
#define NC_BOX_ID_MAX    64

struct nc_box {
	const char *id;           /* container id, unique on the host, [A-Za-z0-9_.-]{1,64} */
	const char *dir;          /* bundle directory to create (replaced if it exists) */
	const char *prog;         /* host path of the VNF program */
	const char *const *args;  /* NULL-terminated argv[1..] as seen inside (NULL: none) */
	const char *conf;         /* host path of the config file */
	const char *sock;         /* host path of the switch's memif socket */
	const char *ctldir;       /* host directory bound read-write at NC_BOX_CTLDIR;
				   * NULL: DIR/ctl, made here and removed by
				   * nc_box_destroy() (a socket a killed VNF left goes
				   * with it; in a directory of the caller's it stays) */
	unsigned cpu_milli;       /* CPU limit in thousandths of a core, 0: none, else 10..1000000 */
	uint64_t mem_bytes;       /* memory limit, 0: none, else >= 4 MiB (the kernel
				   * rounds it down to a page) */
	const char *cpus;         /* cpuset such as "1" or "0-1", NULL: no pinning */
	/* Added beyond the orchestrator issue's API: */
	const char *const *files; /* NULL-terminated host files copied read-only
				   * into NC_BOX_FILEDIR under their base name
				   * (nf-firewall's "rules fw.rules" is relative to
				   * the config's directory), NULL: none */
	const char *const *env;   /* NULL-terminated "NAME=VALUE" for the process
				   * (ASAN_OPTIONS...), NULL: only PATH */
	int seccomp_log;          /* 1: system calls outside the allowlist are
				   * allowed and logged by the kernel (dmesg,
				   * "audit: type=1326") instead of refused: how the
				   * list is checked; never for production */
};

/* Write the bundle: DIR/rootfs and DIR/config.json (and DIR/ctl when
 * ctldir is NULL). An existing DIR is replaced only if it holds nothing
 * but those (a bundle); anything else is refused with -EEXIST, and so is
 * an id runc still knows (nc_box_destroy() it first). The memif socket
 * must exist (-ENOTSOCK otherwise): it is bound by inode, so a switch
 * that restarts (a new socket file) needs new containers. Programs linked
 * with libasan / libubsan get the sanitizers' extra system calls.
 * Returns 0 or -errno (-EINVAL for a bad id or limit, -ENOEXEC for a
 * program or library that is not an ELF file of this machine, -ENOENT
 * for a library not found); on failure a sentence in @err and nothing is
 * left of DIR. */
int nc_box_create(const struct nc_box *b, char *err, size_t errlen);

/* Fill argv (NULL-terminated, at most @n entries with the NULL) with the
 * command that runs the container in the foreground, for execvp():
 *   runc --root NC_BOX_RUNC_ROOT run --bundle DIR ID
 * Its exit status is the container's (128 + signal when killed); SIGTERM
 * to it is forwarded to the VNF; runc deletes the container when the VNF
 * exits. The pointers are b->dir and b->id and string constants.
 * Returns 0, or -ENOSPC when @n < 8. */
int nc_box_argv(const struct nc_box *b, const char **argv, size_t n);

/* Remove everything the container @id with bundle @dir (NULL: keep the
 * bundle) may have left:
 * `runc delete --force ID` when runc knows it, then whatever a crash
 * half-way left behind (processes and directories in the container's
 * cgroups, runc's state directory), then DIR (refused with -ENOTEMPTY if
 * it holds anything but a bundle's files). Idempotent: 0 when nothing
 * was there. It forks runc and waits for that child: a SIGCHLD handler
 * that reaps every child (waitpid(-1)) would steal its status. Returns 0
 * or the first -errno; a sentence in nf_last_error(). */
int nc_box_destroy(const char *id, const char *dir);

/* `nfchain container run|rm ...` (box_cmd.c); argv[0] is "container".
 * Returns the exit status. */
int nc_box_main(int argc, char **argv);

#endif
