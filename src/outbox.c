/* outbox.c: per-connection frame queue. See outbox.h. */
#include "outbox.h"

#include <stdlib.h>
#include <string.h>

struct outbox_frame {
	struct outbox_frame *next;
	size_t len;
	unsigned char data[]; /* headroom, then len payload bytes */
};

void outbox_init(struct outbox *ob, size_t headroom)
{
	memset(ob, 0, sizeof(*ob));
	ob->headroom = headroom;
}

int outbox_push(struct outbox *ob, const char *data, size_t len, size_t max_bytes)
{
	struct outbox_frame *f;

	if (ob->bytes + len > max_bytes)
		return -1;
	f = malloc(sizeof(*f) + ob->headroom + len);
	if (!f)
		abort();
	f->next = NULL;
	f->len = len;
	memcpy(f->data + ob->headroom, data, len);
	if (ob->tail)
		ob->tail->next = f;
	else
		ob->head = f;
	ob->tail = f;
	ob->bytes += len;
	ob->frames++;
	return 0;
}

unsigned char *outbox_peek(struct outbox *ob, size_t *len)
{
	if (!ob->head)
		return NULL;
	*len = ob->head->len;
	return ob->head->data + ob->headroom;
}

void outbox_pop(struct outbox *ob)
{
	struct outbox_frame *f = ob->head;
	if (!f)
		return;
	ob->head = f->next;
	if (!ob->head)
		ob->tail = NULL;
	ob->bytes -= f->len;
	ob->frames--;
	free(f);
}

void outbox_clear(struct outbox *ob)
{
	while (ob->head)
		outbox_pop(ob);
}
