/* app.c - the helpers on the application's context (app.h). */
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "app.h"

int app_store(struct app *app, store_req *req)
{
    int r = store_submit(app->store, req);
    if (r < 0)
        app->metrics.store_errors++;
    return r;
}

/* The loop's writer; its buffer is kept between events, unless one grew it
 * past what a full history page of long texts needs. */
#define APP_WRITER_KEEP (1u << 20)

struct jsonw *app_writer(struct app *app)
{
    jsonw_reset(&app->out, APP_WRITER_KEEP);
    return &app->out;
}

void app_free_typing(struct app *app)
{
    for (struct map_entry *e = map_first(&app->typing); e != NULL; e = map_next(&app->typing, e))
        free(e->value);
    map_free(&app->typing);
}
