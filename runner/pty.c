/* pty.c - the PTYs of shell sessions and of SPAWN PTY processes: opening
 * a pair, and the terminal modes sessions use (shared with processes that
 * ask for them, SPAWN PTY_MODE 1). */
#include "runner.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

int pty_open(uint16_t rows, uint16_t cols, int *master, int *slave)
{
	struct winsize ws = {.ws_row = rows, .ws_col = cols};
	char name[64];
	int m, s = -1, err;

	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (m < 0)
		return -errno;
	/* musl's ptsname_r returns its error without setting errno. */
	errno = EIO;
	if (grantpt(m) < 0 || unlockpt(m) < 0 ||
	    ptsname_r(m, name, sizeof(name)) != 0 ||
	    (s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0 ||
	    ioctl(s, TIOCSWINSZ, &ws) < 0) {
		err = errno;
		if (s >= 0)
			close(s);
		close(m);
		return -err;
	}
	*master = m;
	*slave = s;
	return 0;
}

int pty_exact_modes(int fd)
{
	struct termios t;

	/* Byte-exact output (no OPOST, so no \n -> \r\n), no echo; ICANON
	 * and ISIG stay so stdin gets ^D as EOF and ^C as SIGINT. */
	if (tcgetattr(fd, &t) < 0)
		return -errno;
	t.c_iflag = IUTF8;
	t.c_oflag = 0;
	t.c_lflag = ISIG | ICANON;
	t.c_cflag = (t.c_cflag & ~(CSIZE | PARENB)) | CS8 | CREAD;
	return tcsetattr(fd, TCSANOW, &t) < 0 ? -errno : 0;
}
