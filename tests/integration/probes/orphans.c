/* orphans N [ADOPTER] - make N orphans and check that whoever adopts them reaps
 * them.  N children each fork a grandchild and exit at once; the
 * grandchildren, adopted by our parent (PID 1 or the subreaper), wait on
 * a pipe until we have reaped all N children, then exit together.
 * Afterwards no zombie with our parent (or ADOPTER: 1 when we entered
 * the namespace with nsenter) as its parent may remain.
 * Prints "orphans=N zombies_left=K" and exits 0 iff K is 0. */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Zombies whose parent is ppid, from /proc. */
static int zombies_of(pid_t ppid)
{
	char path[300], buf[512], state, *p;
	struct dirent *e;
	int fd, n = 0, parent;
	ssize_t len;
	DIR *d = opendir("/proc");

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = 0;
		p = strrchr(buf, ')');
		if (p && sscanf(p + 1, " %c %d", &state, &parent) == 2 &&
		    state == 'Z' && parent == ppid)
			n++;
	}
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1000, i, left = -1, gate[2];
	pid_t adopter = argc > 2 ? atoi(argv[2]) : getppid(), pid;
	char c;

	if (pipe(gate) < 0)
		return 3;
	for (i = 0; i < n; i++) {
		pid = fork();
		if (pid < 0)
			return 4;
		if (pid == 0) {
			if (fork() == 0) {
				close(gate[1]);
				/* EOF when the parent closes the gate. */
				if (read(gate[0], &c, 1) < 0)
					_exit(1);
				_exit(0);
			}
			_exit(0);
		}
	}
	close(gate[0]);
	for (i = 0; i < n; i++)
		if (wait(NULL) < 0)
			return 5;
	close(gate[1]); /* every orphan exits now */
	/* Exits and reaping take a moment: wait up to 20 s for none. */
	for (i = 0; i < 2000; i++) {
		left = zombies_of(adopter);
		if (left == 0)
			break;
		usleep(10000);
	}
	printf("orphans=%d zombies_left=%d\n", n, left);
	fflush(stdout);
	return left == 0 ? 0 : 1;
}
