/* Helpers shared by the C test programs: reading the sandbox's files and
 * picking fields out of its flat JSON (test helpers, not a JSON parser). */
#ifndef SNAPB2B_TEST_UTIL_H
#define SNAPB2B_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)len + 1);
    size_t n = fread(buf, 1, (size_t)len, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Finds the value of "key" in a JSON object, allowing spaces around the
 * colon (test helper, not a parser). */
static inline const char *json_value(const char *json, const char *key) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = strstr(json, pat);
    if (!p) return NULL;
    p += strlen(pat);
    while (*p == ' ') p++;
    if (*p != ':') return NULL;
    p++;
    while (*p == ' ') p++;
    return p;
}

static inline void json_str(const char *json, const char *key, char *out, size_t cap) {
    const char *p = json_value(json, key);
    out[0] = '\0';
    if (!p || *p != '"') return;
    p++;
    size_t i = 0;
    while (*p && *p != '"' && i + 1 < cap) out[i++] = *p++;
    out[i] = '\0';
}

static inline long long json_int(const char *json, const char *key) {
    const char *p = json_value(json, key);
    return p ? strtoll(p, NULL, 10) : -1;
}

#endif
