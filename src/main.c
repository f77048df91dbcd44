/* main.c: the command line. `supportd [COMMAND] [OPTIONS]`; `serve` is the
 * default command. Each command has its own --help. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ask.h"
#include "agentadmin.h"
#include "importfaq.h"
#include "check.h"
#include "convtest.h"
#include "report.h"
#include "config.h"
#include "daemon.h"

static const char usage_main[] =
	"usage: supportd [COMMAND] [OPTIONS]\n"
	"\n"
	"supportd is a customer-support chat daemon: a website widget talks to it\n"
	"over a websocket, a Lua pipeline decides what the bot answers, and every\n"
	"conversation is stored durably.\n"
	"\n"
	"commands:\n"
	"  serve      run the daemon (the default)\n"
	"  ask        show what the bot decides for questions, and why\n"
	"  check      check the content (faq/, rules/, lua/) for errors and slips\n"
	"  agent      add and list support agents (the console's logins)\n"
	"  report     what the bot and the desk did: deflection, handoffs, CSAT, waits\n"
	"  test       run the conversation tests in tests/conversations/\n"
	"  import-faq turn a spreadsheet (CSV) of questions and answers into FAQ files\n"
	"  version    print the version\n"
	"  help       show this help, or `supportd help COMMAND`\n"
	"\n"
	"Run `supportd COMMAND --help` for a command's options.\n";

static const char usage_serve[] =
	"usage: supportd serve [OPTIONS]\n"
	"\n"
	"Runs the daemon until SIGTERM or SIGINT. It serves the customer\n"
	"websocket at /chat (subprotocol supportd.chat.v1), /healthz, /metrics and\n"
	"static files. Built-in defaults need no config file; a config file\n"
	"overrides them and these options override the file.\n"
	"\n"
	"options:\n"
	"  -c, --config FILE     JSON config file (keys: docs/configuration.md)\n"
	"  -l, --listen ADDR     address to bind (default 127.0.0.1)\n"
	"  -p, --port N          port; 0 picks a free one and logs it (default 8080)\n"
	"  -d, --data-dir DIR    where supportd.db lives (default var)\n"
	"      --content DIR     content root holding lua/, faq/, rules/ (default .)\n"
	"      --static DIR      static files served at / (default contrib/www)\n"
	"      --log-level LEVEL debug, info, warn or error (default info)\n"
	"  -h, --help            show this help\n"
	"\n"
	"Signals: SIGTERM or SIGINT finish in-flight work, close clients with\n"
	"1001 and exit 0; a second one exits at once. Logs are logfmt lines on\n"
	"stderr; customer text is never logged at info.\n";

enum { OPT_CONTENT = 256, OPT_STATIC, OPT_LOG_LEVEL };

static int set_str(char *dst, size_t size, const char *v, const char *what)
{
	if (!v[0] || strlen(v) >= size) {
		fprintf(stderr, "supportd: %s must be 1 to %zu characters\n", what, size - 1);
		return -1;
	}
	snprintf(dst, size, "%s", v);
	return 0;
}

static int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"listen", required_argument, NULL, 'l'},
		{"port", required_argument, NULL, 'p'},
		{"data-dir", required_argument, NULL, 'd'},
		{"content", required_argument, NULL, OPT_CONTENT},
		{"static", required_argument, NULL, OPT_STATIC},
		{"log-level", required_argument, NULL, OPT_LOG_LEVEL},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	struct config cfg;
	const char *config_path = NULL;
	char err[1024];
	int c;

	/* first pass: only --config and --help, so flags can override the file */
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:l:p:d:h", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage_serve, stdout);
			return 0;
		}
		if (c == 'c')
			config_path = optarg;
	}
	config_defaults(&cfg);
	if (config_path && config_load_file(&cfg, config_path, err, sizeof(err))) {
		fprintf(stderr, "supportd: %s\n", err);
		return 2;
	}

	opterr = 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:l:p:d:h", opts, NULL)) != -1) {
		char *end;
		long port;
		int rc = 0;
		switch (c) {
		case 'c':
			break;
		case 'l':
			rc = set_str(cfg.listen, sizeof(cfg.listen), optarg, "--listen");
			break;
		case 'p':
			port = strtol(optarg, &end, 10);
			if (*end || end == optarg || port < 0 || port > 65535) {
				fprintf(stderr, "supportd: --port must be a number from 0 to 65535\n");
				return 2;
			}
			cfg.port = (int)port;
			break;
		case 'd':
			rc = set_str(cfg.data_dir, sizeof(cfg.data_dir), optarg, "--data-dir");
			break;
		case OPT_CONTENT:
			rc = set_str(cfg.content_dir, sizeof(cfg.content_dir), optarg, "--content");
			break;
		case OPT_STATIC:
			rc = set_str(cfg.static_dir, sizeof(cfg.static_dir), optarg, "--static");
			break;
		case OPT_LOG_LEVEL: {
			enum log_level l;
			if (log_parse_level(optarg, &l)) {
				fprintf(stderr, "supportd: --log-level must be debug, info, warn or error\n");
				return 2;
			}
			rc = set_str(cfg.log_level, sizeof(cfg.log_level), optarg, "--log-level");
			break;
		}
		default:
			fputs(usage_serve, stderr);
			return 2;
		}
		if (rc)
			return 2;
	}
	if (optind < argc) {
		fprintf(stderr, "supportd serve: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	return daemon_run(&cfg);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "serve";

	if (cmd[0] == '-') {
		if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
			fputs(usage_main, stdout);
			return 0;
		}
		if (!strcmp(cmd, "--version")) {
			puts("supportd " SUPPORTD_VERSION);
			return 0;
		}
		return cmd_serve(argc, argv); /* options of the default command */
	}
	if (!strcmp(cmd, "serve"))
		return cmd_serve(argc - 1, argv + 1);
	if (!strcmp(cmd, "ask"))
		return ask_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "check"))
		return check_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "agent"))
		return agentadmin_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "report"))
		return report_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "test"))
		return convtest_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "import-faq"))
		return importfaq_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "version")) {
		puts("supportd " SUPPORTD_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "help")) {
		if (argc > 2 && !strcmp(argv[2], "serve")) {
			fputs(usage_serve, stdout);
			return 0;
		}
		if (argc > 2 && !strcmp(argv[2], "ask")) {
			fputs(ask_usage(), stdout);
			return 0;
		}
		if (argc > 2 && !strcmp(argv[2], "import-faq")) {
			fputs(importfaq_usage(), stdout);
			return 0;
		}
		if (argc > 2 && !strcmp(argv[2], "check")) {
			fputs(check_usage(), stdout);
			return 0;
		}
		fputs(usage_main, stdout);
		return 0;
	}
	fprintf(stderr, "supportd: unknown command \"%s\"\n\n%s", cmd, usage_main);
	return 2;
}
