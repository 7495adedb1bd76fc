/* hub_redis_lua.c - the Redis hub's scripts. Each runs atomically in Redis,
 * so a registry change and the presence transition it implies are one step.
 *
 * Keys (docs/deploy.md has the full layout):
 *   duet:sessions       ZSET  session id -> last heartbeat (ms, Redis clock)
 *   duet:sess:<sid>     SET   users registered by that session
 *   duet:on:<uid>       SET   sessions where the user has a connection
 *   duet:pv:<uid>       INT   presence version: +1 per online/offline change
 *   duet:ch:<sid>       channel of a session (events for its users)
 *   duet:cache:epoch    INT   cache generation, moved on after an outage
 *   duet:cg:<key>       INT   per-key generation, moved on by invalidation
 *   duet:c:<epoch>:<key>      cached values
 *   duet:lt:u:<username> INT  login attempts in the window (PEXPIRE = window)
 *   duet:lt:a:<address>  INT  the same per client address (IPv6: the /64)
 *   duet:vis:<uid>      SET   sessions where the user has a visible connection
 *                             (Web Push; members no longer in duet:on:<uid>
 *                             are stale: dropped when read)
 * Key names are built inside the scripts: fine for one Redis server, not for
 * Redis Cluster.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "hub_redis_int.h"

/* The scripts are kept readable as Lua; clang-format would break them up. */
// clang-format off
#define NOW_MS                                                                 \
    "local t = redis.call('TIME')\n"                                           \
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"

/* INCR and keep for a week: long enough for any fan-out in flight. */
#define NEXT_VERSION(u)                                                        \
    "local pk = 'duet:pv:' .. " u "\n"                                         \
    "local v = redis.call('INCR', pk)\n"                                       \
    "redis.call('EXPIRE', pk, 604800)\n"

static const char lua_heartbeat[] =
    NOW_MS
    "if ARGV[2] ~= '1' and not redis.call('ZSCORE', 'duet:sessions', ARGV[1]) then\n"
    "  return -1\n"
    "end\n"
    "redis.call('ZADD', 'duet:sessions', now, ARGV[1])\n"
    "return now\n";

static const char lua_attach[] =
    "if not redis.call('ZSCORE', 'duet:sessions', ARGV[1]) then\n"
    "  return -1\n"
    "end\n"
    "redis.call('SADD', 'duet:sess:' .. ARGV[1], ARGV[2])\n"
    "local on = 'duet:on:' .. ARGV[2]\n"
    "local was = redis.call('SCARD', on)\n"
    "redis.call('SADD', on, ARGV[1])\n"
    "if was == 0 then\n"
    NEXT_VERSION("ARGV[2]")
    "  return v\n"
    "end\n"
    "return 0\n";

static const char lua_detach[] =
    "redis.call('SREM', 'duet:sess:' .. ARGV[1], ARGV[2])\n"
    "local on = 'duet:on:' .. ARGV[2]\n"
    "if redis.call('SREM', on, ARGV[1]) == 1 and redis.call('SCARD', on) == 0 then\n"
    NEXT_VERSION("ARGV[2]")
    "  return v\n"
    "end\n"
    "return 0\n";

/* Sessions silent for ttl: their users leave, at most `max` per session and
 * call so that one call stays short; the rest go on the next call. */
static const char lua_reap[] =
    NOW_MS
    "local max = tonumber(ARGV[2])\n"
    "local dead = redis.call('ZRANGEBYSCORE', 'duet:sessions', '-inf',\n"
    "  now - tonumber(ARGV[1]), 'WITHSCORES', 'LIMIT', 0, 8)\n"
    "local out = {}\n"
    "for i = 1, #dead, 2 do\n"
    "  local sid, at = dead[i], dead[i + 1]\n"
    "  local sk = 'duet:sess:' .. sid\n"
    "  for _, u in ipairs(redis.call('SPOP', sk, max)) do\n"
    "    local on = 'duet:on:' .. u\n"
    "    if redis.call('SREM', on, sid) == 1 and redis.call('SCARD', on) == 0 then\n"
    NEXT_VERSION("u")
    "      out[#out + 1] = u\n"
    "      out[#out + 1] = tostring(v)\n"
    "      out[#out + 1] = at\n"
    "    end\n"
    "  end\n"
    "  if redis.call('SCARD', sk) == 0 then\n"
    "    redis.call('ZREM', 'duet:sessions', sid)\n"
    "  end\n"
    "end\n"
    "return out\n";

/* Our own old session, with the users we know it had: Redis may have lost
 * them (a restart), so a user with no session left goes offline even if the
 * entry was already gone. */
static const char lua_reap_mine[] =
    "local sid = ARGV[1]\n"
    "local sk = 'duet:sess:' .. sid\n"
    "local out = {}\n"
    "for i = 3, #ARGV do\n"
    "  local u = ARGV[i]\n"
    "  local on = 'duet:on:' .. u\n"
    "  redis.call('SREM', sk, u)\n"
    "  redis.call('SREM', on, sid)\n"
    "  if redis.call('SCARD', on) == 0 then\n"
    NEXT_VERSION("u")
    "    out[#out + 1] = u\n"
    "    out[#out + 1] = tostring(v)\n"
    "    out[#out + 1] = ARGV[2]\n"
    "  end\n"
    "end\n"
    "if redis.call('SCARD', sk) == 0 then\n"
    "  redis.call('ZREM', 'duet:sessions', sid)\n"
    "end\n"
    "return out\n";

/* Publishes payload on the channel of every session of uid but skip; with a
 * condition, only while cond uid's presence version is still cond version. */
static const char lua_route[] =
    "if ARGV[4] ~= '' and redis.call('GET', 'duet:pv:' .. ARGV[4]) ~= ARGV[5] then\n"
    "  return 0\n"
    "end\n"
    "local n = 0\n"
    "for _, s in ipairs(redis.call('SMEMBERS', 'duet:on:' .. ARGV[2])) do\n"
    "  if s ~= ARGV[1] then\n"
    "    redis.call('PUBLISH', 'duet:ch:' .. s, ARGV[3])\n"
    "    n = n + 1\n"
    "  end\n"
    "end\n"
    "return n\n";

static const char lua_online[] =
    "local r = {}\n"
    "for i, u in ipairs(ARGV) do\n"
    "  r[i] = redis.call('EXISTS', 'duet:on:' .. u)\n"
    "end\n"
    "return r\n";

/* The generation of a cache key: the cache epoch and the key's own. */
#define CACHE_GEN                                                              \
    "local e = redis.call('GET', 'duet:cache:epoch') or '0'\n"                 \
    "local g = e .. '.' .. (redis.call('GET', 'duet:cg:' .. ARGV[1]) or '0')\n"

static const char lua_cache_get[] =
    CACHE_GEN
    "return {redis.call('GET', 'duet:c:' .. e .. ':' .. ARGV[1]) or '', g}\n";

/* Stores only if nothing invalidated the key since the read it came from. */
static const char lua_cache_set[] =
    CACHE_GEN
    "if g ~= ARGV[4] then return 0 end\n"
    "redis.call('SET', 'duet:c:' .. e .. ':' .. ARGV[1], ARGV[2], 'EX', ARGV[3])\n"
    "return 1\n";

static const char lua_cache_drop[] =
    "local e = redis.call('GET', 'duet:cache:epoch') or '0'\n"
    "for _, k in ipairs(ARGV) do\n"
    "  redis.call('DEL', 'duet:c:' .. e .. ':' .. k)\n"
    "  redis.call('INCR', 'duet:cg:' .. k)\n"
    "  redis.call('EXPIRE', 'duet:cg:' .. k, 86400)\n"
    "end\n"
    "return #ARGV\n";

/* Both login counters at once: count the attempt under each (a window
 * starts with its first attempt), and if either is now over its max, take
 * both back (a counter back at zero goes, so that names tried from a
 * refused address leave no keys) and answer the longest wait. A key found
 * without a TTL (a write lost half way) gets one, so no counter can block
 * for good. */
static const char lua_throttle_take[] =
    "local keys = {'duet:lt:u:' .. ARGV[1], 'duet:lt:a:' .. ARGV[2]}\n"
    "local wait = 0\n"
    "local n = {}\n"
    "for i = 1, 2 do\n"
    "  n[i] = redis.call('INCR', keys[i])\n"
    "  if n[i] == 1 or redis.call('PTTL', keys[i]) < 0 then\n"
    "    redis.call('PEXPIRE', keys[i], ARGV[5])\n"
    "  end\n"
    "end\n"
    "for i = 1, 2 do\n"
    "  if n[i] > tonumber(ARGV[i + 2]) then\n"
    "    local t = redis.call('PTTL', keys[i])\n"
    "    if t < 1 then t = 1 end\n"
    "    if t > wait then wait = t end\n"
    "  end\n"
    "end\n"
    "if wait > 0 then\n"
    "  for i = 1, 2 do\n"
    "    if redis.call('DECR', keys[i]) <= 0 then redis.call('DEL', keys[i]) end\n"
    "  end\n"
    "end\n"
    "return wait\n";

/* A right password: the username's count goes, the address gets its
 * attempt back (never below zero, never creating a key). */
static const char lua_throttle_ok[] =
    "redis.call('DEL', 'duet:lt:u:' .. ARGV[1])\n"
    "local a = 'duet:lt:a:' .. ARGV[2]\n"
    "if tonumber(redis.call('GET', a) or '0') > 0 then redis.call('DECR', a) end\n"
    "return 1\n";
/* Our session has (1) or has no longer (0) a visible connection of uid. */
static const char lua_vis_set[] =
    "local k = 'duet:vis:' .. ARGV[2]\n"
    "if ARGV[3] == '1' then redis.call('SADD', k, ARGV[1]) else redis.call('SREM', k, ARGV[1]) end\n"
    "redis.call('EXPIRE', k, 604800)\n"
    "return 1\n";

/* Other live sessions with a visible connection of uid: a member whose
 * session is not in duet:on:<uid> any more (its instance died) is stale. */
static const char lua_vis_get[] =
    "local k = 'duet:vis:' .. ARGV[2]\n"
    "local on = 'duet:on:' .. ARGV[2]\n"
    "local n = 0\n"
    "for _, s in ipairs(redis.call('SMEMBERS', k)) do\n"
    "  if redis.call('SISMEMBER', on, s) == 0 then redis.call('SREM', k, s)\n"
    "  elseif s ~= ARGV[1] then n = n + 1 end\n"
    "end\n"
    "return n\n";
// clang-format on

static const struct {
    const char *name;
    const char *lua;
} lua_defs[HR_S_COUNT] = {
    [HR_S_HEARTBEAT] = {"heartbeat", lua_heartbeat},
    [HR_S_ATTACH] = {"attach", lua_attach},
    [HR_S_DETACH] = {"detach", lua_detach},
    [HR_S_REAP] = {"reap", lua_reap},
    [HR_S_REAP_MINE] = {"reap_mine", lua_reap_mine},
    [HR_S_ROUTE] = {"route", lua_route},
    [HR_S_ONLINE] = {"online", lua_online},
    [HR_S_CACHE_GET] = {"cache_get", lua_cache_get},
    [HR_S_CACHE_SET] = {"cache_set", lua_cache_set},
    [HR_S_CACHE_DROP] = {"cache_drop", lua_cache_drop},
    [HR_S_THROTTLE_TAKE] = {"throttle_take", lua_throttle_take},
    [HR_S_THROTTLE_OK] = {"throttle_ok", lua_throttle_ok},
    [HR_S_VIS_SET] = {"vis_set", lua_vis_set},
    [HR_S_VIS_GET] = {"vis_get", lua_vis_get},
};

int hub_redis_lua_init(struct hr_script_def defs[HR_S_COUNT])
{
    for (int i = 0; i < HR_S_COUNT; i++) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdlen = 0;
        if (EVP_Digest(lua_defs[i].lua, strlen(lua_defs[i].lua), md, &mdlen, EVP_sha1(), NULL) !=
                1 ||
            mdlen != 20)
            return -ENOMEM;
        defs[i].name = lua_defs[i].name;
        defs[i].lua = lua_defs[i].lua;
        for (unsigned j = 0; j < mdlen; j++)
            snprintf(defs[i].sha + 2 * j, 3, "%02x", md[j]);
    }
    return 0;
}
