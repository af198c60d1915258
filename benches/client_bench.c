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

static void cached_bench(b2b_client *client, double seconds, int repeats) {
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
    printf("c_client_token_cached %.1f\n", best);
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

int main(int argc, char **argv) {
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
        cached_bench(client, atof(argv[3]), atoi(argv[4]));
    else if (strcmp(argv[1], "renew") == 0)
        renew_bench(client, atoi(argv[3]));
    else {
        fprintf(stderr, "client_bench: unknown mode %s\n", argv[1]);
        return 2;
    }
    b2b_client_free(client);
    return 0;
}
