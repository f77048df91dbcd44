/* report.h: `supportd report`: what the bot and the desk did, for editors
 * and managers, from the store (text, or --json for other tools). */
#ifndef SUPPORTD_REPORT_H
#define SUPPORTD_REPORT_H

/* Runs `supportd report` with argv[0] = "report". Returns the exit status. */
int report_main(int argc, char **argv);

/* Parses a --since value: "24h", "7d", "90m", "30d" -> milliseconds, or -1. */
long long report_parse_since(const char *s);

#endif
