/* procfs.c - see procfs.h. */
#include "procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void proc_path(char *path, size_t cap, pid_t pid, const char *name)
{
	snprintf(path, cap, "/proc/%d/%s", (int)pid, name);
}

ssize_t proc_read(pid_t pid, const char *name, char *buf, size_t cap)
{
	char path[48];
	ssize_t n;
	int fd;

	proc_path(path, sizeof(path), pid, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	n = read(fd, buf, cap - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return n;
}

ssize_t proc_readlink(pid_t pid, const char *name, char *buf, size_t cap)
{
	char path[48];
	ssize_t n;

	proc_path(path, sizeof(path), pid, name);
	n = readlink(path, buf, cap);
	return n < 0 ? -errno : n;
}

const char *proc_stat_fields(pid_t pid, char *buf, size_t cap)
{
	char *p;

	if (proc_read(pid, "stat", buf, cap) <= 0 || !(p = strrchr(buf, ')')) ||
	    p[1] != ' ')
		return NULL;
	return p + 2;
}

int pid_identity(pid_t pid, pid_t *ns_pid, uint64_t *start)
{
	char buf[1536], *end;
	const char *p;
	int field;

	/* starttime is field 22: the 20th after state (field 3) */
	if (!(p = proc_stat_fields(pid, buf, sizeof(buf))))
		return -EIO;
	for (field = 3; p && field < 22; field++)
		if ((p = strchr(p, ' ')))
			p++;
	if (!p)
		return -EIO;
	*start = strtoull(p, NULL, 10);
	if (proc_read(pid, "status", buf, sizeof(buf)) <= 0 ||
	    !(p = strstr(buf, "\nNSpid:")))
		return -EIO;
	p += 7;
	if ((end = strchr(p, '\n')))
		*end = 0;
	/* tab-separated, outermost namespace first */
	end = strrchr(p, '\t');
	*ns_pid = (pid_t)strtol(end ? end + 1 : p, NULL, 10);
	return 0;
}
