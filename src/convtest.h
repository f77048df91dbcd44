/* convtest.h: `supportd test`: editors' conversation tests.
 *
 * A test is a YAML file (tests/conversations/NAME.yaml under the content
 * root): the customer says things, turn after turn, and each turn says
 * what the bot must do (an FAQ answer, an intent, a flow's prompt, a
 * handoff with its team and reason, words in the reply, buttons). Flows
 * run for real against stubbed backend replies written in the test. The
 * tests run in process, through the same pipeline, flows and bot as the
 * daemon (bot.c), without a store or sockets. docs/content.md has the
 * format. */
#ifndef SUPPORTD_CONVTEST_H
#define SUPPORTD_CONVTEST_H

/* Runs `supportd test` with argv[0] = "test". Returns the exit status: 0
 * when every test passed, 1 when one failed or a file has problems, 2 on
 * usage errors. */
int convtest_main(int argc, char **argv);

#endif
