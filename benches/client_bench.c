/*
 * Token client benchmarks against the local sandbox provider.
 *
 *   client_bench cached    CONFIG.json SECONDS REPEATS
 *       b2b_client_token on a fresh cached token, one thread: prints
 *       "c_client_token_cached calls_per_second" (best of REPEATS runs).
 *   client_bench renew     CONFIG.json N
 *       N forced renewals (b2b_client_invalidate + b2b_client_token) on one
 *       client: prints "c_client_renew renewals_per_second". Each must
 *       report "cached":false, i.e. really went to the provider.
 *   client_bench get_token CONFIG.json N
 *       N one-shot b2b_get_token calls (no client, so no kept connection):
 *       prints "c_get_token requests_per_second", the baseline for renew.
 *   client_bench cached_as NAME CONFIG.json SECONDS REPEATS
 *       As `cached`, printing "NAME calls_per_second" (e.g. with cache_url).
 *   client_bench first_token NAME CONFIG.json N
 *       N clients made first (not timed), then each one's first
 *       b2b_client_token, which must come from the shared level (cache_file
 *       or Redis): prints "NAME microseconds_per_call" (median).
 *   client_bench once CONFIG.json START_AT
 *       One process's token: waits until START_AT (unix seconds) after
 *       making its client, asks once, prints "cached" or "fetched".
 *
 * Connection and request counts are read from the sandbox by the caller
 * (benches/run.sh) before and after, so this program stays a plain client.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "snapb2b.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fail(const char *what) {
    const char *e = b2b_last_error();
    fprintf(stderr, "client_bench: %s: %s\n", what, e ? e : "(no error text)");
    exit(2);
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "client_bench: cannot open %s\n", path);
        exit(2);
    }
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* One b2b_client_token call; returns whether it was served from the cache. */
static int token(b2b_client *client) {
    char *json = NULL;
    if (b2b_client_token(client, &json) != B2B_OK)
        fail("b2b_client_token");
    int cached = strstr(json, "\"cached\":true") != NULL;
    b2b_free(json); /* part of the cost: every caller must free */
    return cached;
}

static void cached_bench(const char *name, b2b_client *client, double seconds, int repeats) {
    token(client); /* the one real request; the token lives 900 s */
    double best = 0;
    for (int r = 0; r < repeats; r++) {
        long n = 0;
        double start = now(), t, end = start + seconds;
        do {
            /* Checking every call proves none refetched; it costs one
             * strstr over ~300 bytes, included in the figure. */
            if (!token(client)) {
                fprintf(stderr, "client_bench: the token was fetched again\n");
                exit(2);
            }
            n++;
        } while ((t = now()) < end);
        if (n / (t - start) > best)
            best = n / (t - start);
    }
    printf("%s %.1f\n", name, best);
}

static void renew_bench(b2b_client *client, int n) {
    double start = now();
    for (int i = 0; i < n; i++) {
        if (b2b_client_invalidate(client) != B2B_OK)
            fail("b2b_client_invalidate");
        if (token(client)) {
            fprintf(stderr, "client_bench: renewal %d came from the cache\n", i);
            exit(2);
        }
    }
    printf("c_client_renew %.1f\n", n / (now() - start));
}

static void get_token_bench(const char *config, int n) {
    double start = now();
    for (int i = 0; i < n; i++) {
        char *json = NULL;
        if (b2b_get_token(config, &json) != B2B_OK)
            fail("b2b_get_token");
        b2b_free(json);
    }
    printf("c_get_token %.1f\n", n / (now() - start));
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void first_token_bench(const char *name, const char *config, int n) {
    b2b_client **clients = calloc(n, sizeof *clients);
    double *took = calloc(n, sizeof *took);
    if (clients == NULL || took == NULL)
        exit(2);
    /* b2b_client_new shares one client per config text in a process: each
       client here gets its own text (trailing spaces) so that each has an
       empty memory, as a new process's client would. */
    size_t len = strlen(config);
    char *text = malloc(len + n + 1);
    if (text == NULL)
        exit(2);
    memcpy(text, config, len);
    for (int i = 0; i < n; i++) {
        memset(text + len, ' ', i);
        text[len + i] = '\0';
        if (b2b_client_new(text, &clients[i]) != B2B_OK)
            fail("b2b_client_new");
    }
    free(text);
    for (int i = 0; i < n; i++) {
        double start = now();
        if (!token(clients[i])) {
            fprintf(stderr, "client_bench: client %d fetched instead of reading the shared token\n", i);
            exit(2);
        }
        took[i] = now() - start;
    }
    qsort(took, n, sizeof *took, compare_doubles);
    printf("%s %.1f\n", name, took[n / 2] * 1e6);
    for (int i = 0; i < n; i++)
        b2b_client_free(clients[i]);
    free(clients);
    free(took);
}

static void once(const char *config, double start_at) {
    b2b_client *client = NULL;
    if (b2b_client_new(config, &client) != B2B_OK)
        fail("b2b_client_new");
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    double wait = start_at - (ts.tv_sec + ts.tv_nsec / 1e9);
    if (wait > 0) {
        struct timespec d = {(time_t)wait, (long)((wait - (time_t)wait) * 1e9)};
        nanosleep(&d, NULL);
    }
    printf("%s\n", token(client) ? "cached" : "fetched");
    b2b_client_free(client);
}

int main(int argc, char **argv) {
    if (argc == 6 && strcmp(argv[1], "cached_as") == 0) {
        b2b_client *client = NULL;
        if (b2b_client_new(read_file(argv[3]), &client) != B2B_OK)
            fail("b2b_client_new");
        cached_bench(argv[2], client, atof(argv[4]), atoi(argv[5]));
        b2b_client_free(client);
        return 0;
    }
    if (argc == 5 && strcmp(argv[1], "first_token") == 0) {
        first_token_bench(argv[2], read_file(argv[3]), atoi(argv[4]));
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "once") == 0) {
        once(read_file(argv[2]), atof(argv[3]));
        return 0;
    }
    if (argc < 4) {
        fprintf(stderr, "usage: client_bench cached|renew|get_token CONFIG.json ARGS...\n");
        return 2;
    }
    const char *config = read_file(argv[2]);
    if (strcmp(argv[1], "get_token") == 0) {
        get_token_bench(config, atoi(argv[3]));
        return 0;
    }
    b2b_client *client = NULL;
    if (b2b_client_new(config, &client) != B2B_OK)
        fail("b2b_client_new");
    if (strcmp(argv[1], "cached") == 0 && argc == 5)
        cached_bench("c_client_token_cached", client, atof(argv[3]), atoi(argv[4]));
    else if (strcmp(argv[1], "renew") == 0)
        renew_bench(client, atoi(argv[3]));
    else {
        fprintf(stderr, "client_bench: unknown mode %s\n", argv[1]);
        return 2;
    }
    b2b_client_free(client);
    return 0;
}
