/* box_probe.c - what a process in an nfchain container may and may not do
 * (tests/it/box.sh runs it with `nfchain container run` in place of a VNF).
 *
 * One line per attempt: "NAME ok" or "NAME ERRNO" (EPERM, EROFS, ...).
 * The seccomp allowlist refuses with EPERM what it does not list, clone3
 * with ENOSYS; the read-only root answers EROFS.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef AF_NETLINK
#define AF_NETLINK 16
#endif

static void say(const char *what, long r)
{
	printf("%s %s\n", what, r >= 0 ? "ok" : strerrorname_np(errno));
}

static long fd_result(long fd)
{
	if (fd >= 0)
		close((int)fd);
	return fd;
}

int main(void)
{
	static const char host[] = "probe";
	long r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("pid %d\n", (int)getpid());
	say("socket-unix", fd_result(socket(AF_UNIX, SOCK_STREAM, 0)));
	say("memfd_create", fd_result(memfd_create("probe", MFD_CLOEXEC)));
	say("socket-inet", fd_result(socket(AF_INET, SOCK_DGRAM, 0)));
	say("socket-netlink", fd_result(socket(AF_NETLINK, SOCK_RAW, 0)));
	say("unshare-user", unshare(CLONE_NEWUSER));
	r = syscall(SYS_clone, (long)(CLONE_NEWUSER | SIGCHLD), 0L, 0L, 0L, 0L);
	if (r == 0)
		_exit(0);
	if (r > 0)
		waitpid((pid_t)r, NULL, 0);
	say("clone-newuser", r);
	say("clone3", syscall(SYS_clone3, NULL, 0L));
	say("mount", mount("none", "/proc", "tmpfs", 0, NULL));
	say("sethostname", sethostname(host, sizeof(host) - 1));
	say("keyctl", syscall(SYS_keyctl, 0L, 0L, 0L, 0L, 0L));
	say("bpf", syscall(SYS_bpf, 0L, 0L, 0L));
	say("io_uring_setup", syscall(SYS_io_uring_setup, 1L, 0L));
	say("write-root", fd_result(open("/probe", O_WRONLY | O_CREAT | O_CLOEXEC, 0600)));
	say("write-conf", fd_result(open("/etc/nfchain/vnf.conf", O_WRONLY | O_CLOEXEC)));
	say("write-proc-sys", fd_result(open("/proc/sys/kernel/hostname", O_WRONLY | O_CLOEXEC)));
	say("write-ctl", fd_result(open("/run/nfchain/ctl/probe", O_WRONLY | O_CREAT | O_CLOEXEC,
					0600)));
	say("unlink-ctl", unlink("/run/nfchain/ctl/probe"));
	return 0;
}
