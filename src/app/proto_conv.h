/* proto_conv.h - JSON of the conversation features of issue 17 (reply,
 * forward, reactions, edit, delete for me): the message object's optional
 * fields and the reaction, edited and hidden events (docs/protocol.md). */
#ifndef DUET_PROTO_CONV_H
#define DUET_PROTO_CONV_H

#include <jansson.h>

#include "../base/jsonw.h"
#include "../store/store.h"

/* Adds m's optional fields (reply_to, forwarded, edited_at, hidden,
 * reactions) to the message object o: 0 or -ENOMEM. */
int proto_conv_msg_extra(json_t *o, const struct duet_msg *m);
/* The same fields written directly, in the same order, after the others. */
void proto_conv_write_msg_extra(struct jsonw *w, const struct duet_msg *m);

/* {"type":"reaction","chat_id","seq","user","emoji" (null: removed),"at"} */
json_t *proto_reaction_event(const duet_id *chat, int64_t seq, const struct duet_reaction *r);
/* {"type":"edited","chat_id","seq","id","from","text","edited_at"} */
json_t *proto_edited_event(const struct duet_msg *m);
/* {"type":"hidden","chat_id","seq"} */
json_t *proto_hidden_event(const duet_id *chat, int64_t seq);
/* A backlog row of kind REACTION, EDITED or HIDDEN as its event (without
 * "pending"), or NULL (another kind, or out of memory). */
json_t *proto_conv_pending_event(const struct duet_pending *p);

#endif
