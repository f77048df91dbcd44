/* agent.c: supportd.agent.v1, refused cleanly until the console ships. */
#include "agent.h"

#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "wire.h"

int agent_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		   size_t len)
{
	int *sent = user;
	struct daemon *d;
	(void)in;
	(void)len;

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		*sent = 0;
		lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (!*sent) {
			char *frame = wire_error(WIRE_ERR_NOT_AVAILABLE,
						 "the agent protocol is not available in this version", NULL);
			size_t n = strlen(frame);
			unsigned char *buf = malloc(LWS_PRE + n);
			int rc;
			if (!buf)
				abort();
			memcpy(buf + LWS_PRE, frame, n);
			free(frame);
			rc = lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT);
			free(buf);
			if (rc < (int)n)
				return -1;
			d = lws_context_user(lws_get_context(wsi));
			atomic_fetch_add(&d->metrics.errors[WIRE_ERR_NOT_AVAILABLE], 1);
			*sent = 1;
			lws_callback_on_writable(wsi);
			return 0;
		}
		lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
				 (unsigned char *)"not available", 13);
		return -1;
	default:
		return 0;
	}
}
