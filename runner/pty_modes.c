/* pty_modes.c - the terminal modes shell sessions use, shared with PTY
 * processes that ask for them (SPAWN PTY_MODE 1). */
#include "runner.h"

#include <errno.h>
#include <termios.h>

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
