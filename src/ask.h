/* ask.h: the `supportd ask` command (see ask.c). */
#ifndef SUPPORTD_ASK_H
#define SUPPORTD_ASK_H

/* Runs `supportd ask` with argv[0] = "ask". Returns the exit status. */
int ask_main(int argc, char **argv);

/* The command's --help text. */
const char *ask_usage(void);

#endif
