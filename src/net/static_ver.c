/* static_ver.c - the web folder's version (see static_ver.h). */
#include "static_ver.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define VER_MAX_DEPTH 4   /* web/js/views is depth 2 */
#define VER_MAX_FILES 512 /* a web client has a few dozen */

/* The walk's accumulator. Ownership: on the caller's stack. */
struct ver_walk {
    unsigned char acc[STATIC_VER_LEN / 2];
    size_t files;
    size_t root_len;
};

/* Folds one file in: a hash of its relative name and stat, XOR'd into the
 * accumulator, so readdir's order does not matter. */
static void ver_add(struct ver_walk *w, const char *path, const struct stat *st)
{
    crypto_generichash_state h;
    unsigned char out[STATIC_VER_LEN / 2];
    int64_t meta[5] = {(int64_t)st->st_size, (int64_t)st->st_mtim.tv_sec,
                       (int64_t)st->st_mtim.tv_nsec, (int64_t)st->st_ino, (int64_t)st->st_dev};
    crypto_generichash_init(&h, NULL, 0, sizeof(out));
    crypto_generichash_update(&h, (const unsigned char *)path + w->root_len,
                              strlen(path) - w->root_len + 1);
    crypto_generichash_update(&h, (const unsigned char *)meta, sizeof(meta));
    crypto_generichash_final(&h, out, sizeof(out));
    for (size_t i = 0; i < sizeof(out); i++)
        w->acc[i] ^= out[i];
    w->files++;
}

/* Walks the folder in path (a PATH_MAX buffer holding len bytes). Hidden
 * names are skipped, as static.c never serves them usefully anyway. */
static int ver_dir(struct ver_walk *w, char *path, size_t len, int depth)
{
    DIR *d = opendir(path);
    if (d == NULL)
        return -errno;
    int r = 0;
    struct dirent *e;
    while (r == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        size_t n = strlen(e->d_name);
        if (len + 1 + n >= PATH_MAX) {
            r = -ENAMETOOLONG;
            break;
        }
        path[len] = '/';
        memcpy(path + len + 1, e->d_name, n + 1);
        struct stat st;
        if (stat(path, &st) < 0)
            continue; /* gone, or a dangling link: nothing to serve */
        if (S_ISDIR(st.st_mode) && depth < VER_MAX_DEPTH)
            r = ver_dir(w, path, len + 1 + n, depth + 1);
        else if (S_ISREG(st.st_mode) && w->files < VER_MAX_FILES)
            ver_add(w, path, &st);
    }
    path[len] = '\0';
    closedir(d);
    return r;
}

int static_version(const char *root, char out[STATIC_VER_LEN + 1])
{
    char path[PATH_MAX];
    size_t len = strlen(root);
    if (len == 0 || len >= sizeof(path))
        return -ENAMETOOLONG;
    memcpy(path, root, len + 1);
    while (len > 1 && path[len - 1] == '/')
        path[--len] = '\0';
    struct ver_walk w = {.root_len = len};
    int r = ver_dir(&w, path, len, 0);
    if (r < 0)
        return r;
    sodium_bin2hex(out, STATIC_VER_LEN + 1, w.acc, sizeof(w.acc));
    return 0;
}

int static_ver_subst(const char *data, size_t len, const char *ver, char **out, size_t *out_len)
{
    const size_t tl = sizeof(STATIC_VER_TOKEN) - 1, vl = strlen(ver);
    size_t count = 0;
    for (size_t i = 0; i + tl <= len; i++)
        if (memcmp(data + i, STATIC_VER_TOKEN, tl) == 0) {
            count++;
            i += tl - 1;
        }
    /* vl > tl, and count * tl <= len: no overflow for any real file. */
    size_t n = len + count * (vl - tl);
    char *buf = malloc(n + 1);
    if (buf == NULL)
        return -ENOMEM;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        if (i + tl <= len && memcmp(data + i, STATIC_VER_TOKEN, tl) == 0) {
            memcpy(buf + o, ver, vl);
            o += vl;
            i += tl;
        } else {
            buf[o++] = data[i++];
        }
    }
    buf[o] = '\0';
    *out = buf;
    *out_len = o;
    return 0;
}
