/* dlist.h - intrusive doubly linked lists: a struct with `prev` and `next`
 * pointers to its own type, and a head pointer. The caller owns the nodes;
 * the macros only link and unlink them (O(1), no allocation).
 */
#ifndef DUET_DLIST_H
#define DUET_DLIST_H

/* Pushes x at the front of the list at head. */
#define DLIST_LINK(head, x)                                                                        \
    do {                                                                                           \
        (x)->prev = NULL, (x)->next = (head);                                                      \
        if (head)                                                                                  \
            (head)->prev = (x);                                                                    \
        (head) = (x);                                                                              \
    } while (0)

/* Takes x out of the list at head (x must be in it). */
#define DLIST_UNLINK(head, x)                                                                      \
    do {                                                                                           \
        if ((x)->prev)                                                                             \
            (x)->prev->next = (x)->next;                                                           \
        else                                                                                       \
            (head) = (x)->next;                                                                    \
        if ((x)->next)                                                                             \
            (x)->next->prev = (x)->prev;                                                           \
    } while (0)

#endif
