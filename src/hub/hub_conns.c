/* hub_conns.c - one user's connections on this instance (hub_conns.h). */
#include "hub_conns.h"

#include <string.h>

#include "../net/net.h"
#include "hub.h"

void hub_conns_add(struct hub_conns *l, struct hub_conn *cl)
{
    cl->prev = NULL;
    cl->next = l->head;
    if (l->head != NULL)
        l->head->prev = cl;
    l->head = cl;
    l->n++;
    cl->listed = 1;
}

int hub_conns_remove(struct hub_conns *l, struct hub_conn *cl)
{
    if (!cl->listed)
        return 0;
    cl->listed = 0;
    if (cl->prev != NULL)
        cl->prev->next = cl->next;
    else
        l->head = cl->next;
    if (cl->next != NULL)
        cl->next->prev = cl->prev;
    cl->next = cl->prev = NULL;
    l->n--;
    return 1;
}

void hub_conns_end_sessions(const struct hub_conns *l, const uint8_t token_hash[32], int keep)
{
    /* net_ws_close only starts the closing handshake; the clients leave the
     * list later, from on_ws_close, so iterating here is safe. */
    for (struct hub_conn *cl = l->head; cl != NULL; cl = cl->next) {
        int same = memcmp(cl->token_hash, token_hash, 32) == 0;
        if (same != keep)
            net_ws_close(cl->conn, 1008, "session ended");
    }
}

int hub_conns_visible(const struct hub_conns *l)
{
    for (const struct hub_conn *c = l->head; c != NULL; c = c->next)
        if (c->open && !c->hidden)
            return 1;
    return 0;
}
