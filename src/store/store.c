/* store.c - the backend-independent part of the store interface. */
#include "store.h"

#include <string.h>

void store_req_init(store_req *req, enum store_op op, store_cb cb, void *data)
{
    memset(&req->in, 0, sizeof(req->in));
    memset(&req->out, 0, sizeof(req->out));
    pool_init(&req->pool);
    req->op = op;
    req->cb = cb;
    req->data = data;
    req->status = 0;
    req->next = NULL;
}

void store_req_reset(store_req *req)
{
    pool_clear(&req->pool);
    memset(&req->out, 0, sizeof(req->out));
}

const char *store_op_name(enum store_op op)
{
    static const char *const names[STORE_OP_COUNT] = {
        [STORE_USER_CREATE] = "USER_CREATE",
        [STORE_USER_GET_BY_NAME] = "USER_GET_BY_NAME",
        [STORE_USER_GET] = "USER_GET",
        [STORE_USER_UPDATE] = "USER_UPDATE",
        [STORE_USER_SET_PASSWORD] = "USER_SET_PASSWORD",
        [STORE_USER_SET_LAST_SEEN] = "USER_SET_LAST_SEEN",
        [STORE_SESSION_CREATE] = "SESSION_CREATE",
        [STORE_SESSION_GET] = "SESSION_GET",
        [STORE_SESSION_DELETE] = "SESSION_DELETE",
        [STORE_FRIEND_REQUEST] = "FRIEND_REQUEST",
        [STORE_FRIEND_ACCEPT] = "FRIEND_ACCEPT",
        [STORE_FRIEND_DECLINE] = "FRIEND_DECLINE",
        [STORE_FRIEND_CANCEL] = "FRIEND_CANCEL",
        [STORE_FRIEND_REMOVE] = "FRIEND_REMOVE",
        [STORE_BLOCK] = "BLOCK",
        [STORE_UNBLOCK] = "UNBLOCK",
        [STORE_REQUESTS_LIST] = "REQUESTS_LIST",
        [STORE_BLOCKS_LIST] = "BLOCKS_LIST",
        [STORE_CHATS_LIST] = "CHATS_LIST",
        [STORE_PRESENCE_PEERS] = "PRESENCE_PEERS",
        [STORE_CHAT_PEER] = "CHAT_PEER",
        [STORE_MSG_SEND] = "MSG_SEND",
        [STORE_MSG_ACK] = "MSG_ACK",
        [STORE_MSG_SEEN] = "MSG_SEEN",
        [STORE_MSG_DELETE] = "MSG_DELETE",
        [STORE_HISTORY] = "HISTORY",
        [STORE_PENDING_LIST] = "PENDING_LIST",
        [STORE_SEARCH] = "SEARCH",
        [STORE_CHAT_STATE_SET] = "CHAT_STATE_SET",
        [STORE_PUSH_SUB_ADD] = "PUSH_SUB_ADD",
        [STORE_PUSH_SUB_LIST] = "PUSH_SUB_LIST",
        [STORE_PUSH_SUB_DELETE] = "PUSH_SUB_DELETE",
        [STORE_PUSH_SUB_LOGOUT] = "PUSH_SUB_LOGOUT",
        [STORE_PUSH_PREFS] = "PUSH_PREFS",
        [STORE_PUSH_ENQUEUE] = "PUSH_ENQUEUE",
        [STORE_PUSH_JOBS_LIST] = "PUSH_JOBS_LIST",
        [STORE_PUSH_JOB_DONE] = "PUSH_JOB_DONE",
        [STORE_UPLOAD_CREATE] = "UPLOAD_CREATE",
        [STORE_UPLOAD_GET] = "UPLOAD_GET",
        [STORE_UPLOAD_UPDATE] = "UPLOAD_UPDATE",
        [STORE_UPLOAD_DELETE] = "UPLOAD_DELETE",
        [STORE_UPLOAD_EXPIRED] = "UPLOAD_EXPIRED",
        [STORE_MEDIA_GET] = "MEDIA_GET",
        [STORE_MSG_REACT] = "MSG_REACT",
        [STORE_MSG_EDIT] = "MSG_EDIT",
        [STORE_MSG_HIDE] = "MSG_HIDE",
    };
    if ((unsigned)op >= STORE_OP_COUNT || names[op] == NULL)
        return "UNKNOWN";
    return names[op];
}
