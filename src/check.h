/* check.h: the `supportd check` command (see check.c). */
#ifndef SUPPORTD_CHECK_H
#define SUPPORTD_CHECK_H

/* Runs `supportd check` with argv[0] = "check". Returns the exit status:
 * 0 clean, 1 errors (or warnings with --strict), 2 a usage error. */
int check_main(int argc, char **argv);

/* The command's --help text. */
const char *check_usage(void);

#endif
