/* hub_conns.c - one user's connections on this instance (hub_conns.h). */
#include "hub_conns.h"

#include <string.h>

#include "../net/net.h"
#include "client.h"

void hub_conns_add(struct hub_conns *l, struct client *cl)
{
    cl->hub_prev = NULL;
    cl->hub_next = l->head;
    if (l->head != NULL)
        l->head->hub_prev = cl;
    l->head = cl;
    l->n++;
    cl->hub_listed = 1;
}

int hub_conns_remove(struct hub_conns *l, struct client *cl)
{
    if (!cl->hub_listed)
        return 0;
    cl->hub_listed = 0;
    if (cl->hub_prev != NULL)
        cl->hub_prev->hub_next = cl->hub_next;
    else
        l->head = cl->hub_next;
    if (cl->hub_next != NULL)
        cl->hub_next->hub_prev = cl->hub_prev;
    cl->hub_next = cl->hub_prev = NULL;
    l->n--;
    return 1;
}

void hub_conns_end_sessions(const struct hub_conns *l, const uint8_t token_hash[32], int keep)
{
    /* net_ws_close only starts the closing handshake; the clients leave the
     * list later, from on_ws_close, so iterating here is safe. */
    for (struct client *cl = l->head; cl != NULL; cl = cl->hub_next) {
        int same = memcmp(cl->token_hash, token_hash, 32) == 0;
        if (same != keep)
            net_ws_close(cl->conn, 1008, "session ended");
    }
}
