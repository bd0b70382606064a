/* sigprobe - signal behaviour of a sandboxed program.
 *
 *   sigprobe echo OUT        write "ready" to OUT, then one line "sig N"
 *                            per signal received; exit 0 after SIGTERM
 *   sigprobe daemon MODE OUT detach (fork, setsid, fork: reparented to
 *                            the runner, out of every process group it
 *                            knows), write the pid to OUT, then wait:
 *                            MODE "term" dies of SIGTERM, "ignore"
 *                            ignores it (only SIGKILL ends it)
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void say(int fd, const char *s)
{
	if (write(fd, s, strlen(s)) < 0)
		_exit(4);
}

static int echo(const char *path)
{
	static const int sigs[] = {SIGHUP,   SIGINT,  SIGQUIT, SIGUSR1, SIGUSR2,
				   SIGWINCH, SIGTERM, SIGCONT, SIGALRM, SIGURG};
	char line[32];
	sigset_t set;
	unsigned i;
	int fd, sig;

	sigemptyset(&set);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&set, sigs[i]);
	sigprocmask(SIG_BLOCK, &set, NULL);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0666);
	if (fd < 0)
		return 3;
	say(fd, "ready\n");
	for (;;) {
		if (sigwait(&set, &sig))
			return 5;
		snprintf(line, sizeof(line), "sig %d\n", sig);
		say(fd, line);
		if (sig == SIGTERM)
			return 0;
	}
}

static int daemon_mode(const char *mode, const char *path)
{
	char line[32];
	int fd;

	if (fork() != 0)
		_exit(0);
	setsid();
	if (fork() != 0)
		_exit(0);
	signal(SIGTERM, strcmp(mode, "ignore") ? SIG_DFL : SIG_IGN);
	signal(SIGHUP, strcmp(mode, "ignore") ? SIG_DFL : SIG_IGN);
	/* Let go of the caller's pipes: whoever waits for their EOF must
	 * not wait for us. */
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	if (fd < 0)
		return 3;
	snprintf(line, sizeof(line), "%d\n", (int)getpid());
	say(fd, line);
	close(fd);
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "echo"))
		return echo(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "daemon"))
		return daemon_mode(argv[2], argv[3]);
	fprintf(stderr, "usage: sigprobe echo OUT | daemon term|ignore OUT\n");
	return 2;
}
