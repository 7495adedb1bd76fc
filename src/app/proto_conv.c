/* proto_conv.c - JSON of issue 17's features (proto_conv.h). The jansson
 * and the direct versions of the message fields must stay byte-identical
 * (json_dumps with JSON_COMPACT keeps insertion order): unit-tested. */
#include "proto_conv.h"

#include <errno.h>
#include <string.h>

#include "proto.h"

static json_t *reply_obj(const struct duet_msg *m)
{
    return json_pack("{s:I, s:o, s:s, s:i, s:b}", "seq", (json_int_t)m->reply_to, "sender",
                     proto_id(&m->reply_sender), "snippet",
                     m->reply_snippet ? m->reply_snippet : "", "type", m->reply_type, "deleted",
                     m->reply_deleted != 0);
}

static json_t *reactions_arr(const struct duet_msg *m)
{
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < m->n_reactions; i++) {
        const struct duet_reaction *r = &m->reactions[i];
        if (json_array_append_new(a, json_pack("{s:o, s:s, s:I}", "user", proto_id(&r->user),
                                               "emoji", r->emoji, "at", (json_int_t)r->at)) < 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

int proto_conv_msg_extra(json_t *o, const struct duet_msg *m)
{
    if ((m->reply_to > 0 && json_object_set_new(o, "reply_to", reply_obj(m)) < 0) ||
        (m->forwarded && json_object_set_new(o, "forwarded", json_true()) < 0) ||
        (m->edited_at != 0 &&
         json_object_set_new(o, "edited_at", json_integer(m->edited_at)) < 0) ||
        (m->hidden && json_object_set_new(o, "hidden", json_true()) < 0) ||
        (m->n_reactions > 0 && json_object_set_new(o, "reactions", reactions_arr(m)) < 0))
        return -ENOMEM;
    return 0;
}

static void write_id(struct jsonw *w, const duet_id *id)
{
    char s[DUET_ID_STRLEN + 1];
    duet_id_format(id, s);
    jsonw_str(w, s, DUET_ID_STRLEN);
}

void proto_conv_write_msg_extra(struct jsonw *w, const struct duet_msg *m)
{
    if (m->reply_to > 0) {
        jsonw_lit(w, ",\"reply_to\":{\"seq\":");
        jsonw_int(w, m->reply_to);
        jsonw_lit(w, ",\"sender\":");
        write_id(w, &m->reply_sender);
        jsonw_lit(w, ",\"snippet\":");
        jsonw_cstr(w, m->reply_snippet ? m->reply_snippet : "");
        jsonw_lit(w, ",\"type\":");
        jsonw_int(w, m->reply_type);
        if (m->reply_deleted)
            jsonw_lit(w, ",\"deleted\":true}");
        else
            jsonw_lit(w, ",\"deleted\":false}");
    }
    if (m->forwarded)
        jsonw_lit(w, ",\"forwarded\":true");
    if (m->edited_at != 0) {
        jsonw_lit(w, ",\"edited_at\":");
        jsonw_int(w, m->edited_at);
    }
    if (m->hidden)
        jsonw_lit(w, ",\"hidden\":true");
    if (m->n_reactions == 0)
        return;
    jsonw_lit(w, ",\"reactions\":[");
    for (size_t i = 0; i < m->n_reactions; i++) {
        const struct duet_reaction *r = &m->reactions[i];
        if (i > 0)
            jsonw_lit(w, ",");
        jsonw_lit(w, "{\"user\":");
        write_id(w, &r->user);
        jsonw_lit(w, ",\"emoji\":");
        jsonw_cstr(w, r->emoji);
        jsonw_lit(w, ",\"at\":");
        jsonw_int(w, r->at);
        jsonw_lit(w, "}");
    }
    jsonw_lit(w, "]");
}

json_t *proto_reaction_event(const duet_id *chat, int64_t seq, const struct duet_reaction *r)
{
    const char *e = r->emoji != NULL && r->emoji[0] != '\0' ? r->emoji : NULL;
    return json_pack("{s:s, s:o, s:I, s:o, s:s?, s:I}", "type", "reaction", "chat_id",
                     proto_id(chat), "seq", (json_int_t)seq, "user", proto_id(&r->user), "emoji", e,
                     "at", (json_int_t)r->at);
}

json_t *proto_edited_event(const struct duet_msg *m)
{
    return json_pack("{s:s, s:o, s:I, s:s, s:o, s:s, s:I}", "type", "edited", "chat_id",
                     proto_id(&m->chat_id), "seq", (json_int_t)m->sequence, "id",
                     m->message_id ? m->message_id : "", "from", proto_id(&m->sender), "text",
                     m->message ? m->message : "", "edited_at", (json_int_t)m->edited_at);
}

json_t *proto_hidden_event(const duet_id *chat, int64_t seq)
{
    return json_pack("{s:s, s:o, s:I}", "type", "hidden", "chat_id", proto_id(chat), "seq",
                     (json_int_t)seq);
}

json_t *proto_conv_pending_event(const struct duet_pending *p)
{
    switch (p->kind) {
    case PENDING_REACTION: {
        struct duet_reaction r = {
            .user = p->msg.sender, .emoji = p->msg.message, .at = p->msg.sent_at};
        return proto_reaction_event(&p->msg.chat_id, p->msg.sequence, &r);
    }
    case PENDING_EDITED:
        return proto_edited_event(&p->msg);
    case PENDING_HIDDEN:
        return proto_hidden_event(&p->msg.chat_id, p->msg.sequence);
    default:
        return NULL;
    }
}
