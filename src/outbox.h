/* outbox.h: a connection's queue of outgoing frames.
 *
 * Frames are copied in with `headroom` spare bytes in front (LWS_PRE for
 * libwebsockets, which writes the frame header there). The writable
 * callback sends the head and pops it. The queue is bounded in bytes: a
 * client that stops reading is cut off rather than allowed to grow it. */
#ifndef SUPPORTD_OUTBOX_H
#define SUPPORTD_OUTBOX_H

#include <stddef.h>

struct outbox_frame;

struct outbox {
	struct outbox_frame *head, *tail;
	size_t bytes;        /* payload bytes queued */
	size_t frames;
	size_t headroom;     /* spare bytes before each payload */
};

void outbox_init(struct outbox *ob, size_t headroom);

/* Copies len bytes to the tail. Returns 0, or -1 (nothing queued) if that
 * would put more than max_bytes in the queue. */
int outbox_push(struct outbox *ob, const char *data, size_t len, size_t max_bytes);

/* The head frame's payload (with `headroom` writable bytes before it) and
 * its length, or NULL when empty. The memory stays valid until the pop. */
unsigned char *outbox_peek(struct outbox *ob, size_t *len);

/* Drops the head frame. */
void outbox_pop(struct outbox *ob);

/* Drops every frame. */
void outbox_clear(struct outbox *ob);

#endif
