/*
 * Soak test: 8 threads mixing one-shot signing, b2b_get_token, a shared
 * client's tokens and invalidations, and provoked error cases, for
 * SNAPB2B_SOAK_SECONDS (default 60) against the sandbox. Resident memory is
 * sampled every second; after a warm-up it must not grow by more than
 * SNAPB2B_SOAK_MAX_GROWTH_KB (default 8192). Only provoked failures may occur.
 * Ends with "N passed, M failed".
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "snapb2b.h"
#include "test_util.h"

static char base_url[256], ca_file[512], key_file[512];
static char *demo_key;
static b2b_client *shared;
static atomic_long ops, unexpected;
static atomic_int stop;

static long rss_kb(void) {
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return -1;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = -1;
    fclose(f);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static void expect(int rc, int want, const char *what) {
    atomic_fetch_add(&ops, 1);
    if (rc != want) {
        atomic_fetch_add(&unexpected, 1);
        fprintf(stderr, "unexpected: %s: status %d, want %d: %s\n", what, rc, want, rc ? b2b_last_error() : "ok");
    }
}

static void *worker(void *arg) {
    long id = (long)arg;
    char config[2048], bad_config[2048];
    snprintf(config, sizeof config,
             "{\"provider\":\"%s\",\"base_url\":\"%s\",\"client_id\":\"SANDBOX-CLIENT\",\"private_key_file\":\"%s\",\"ca_file\":\"%s\"}",
             id % 2 ? "doku" : "snap", base_url, key_file, ca_file);
    snprintf(bad_config, sizeof bad_config,
             "{\"provider\":\"snap\",\"base_url\":\"%s\",\"client_id\":\"NO-SUCH-CLIENT\",\"private_key_file\":\"%s\",\"ca_file\":\"%s\"}",
             base_url, key_file, ca_file);
    unsigned seed = (unsigned)id;
    while (!atomic_load(&stop)) {
        char *out = NULL;
        switch (rand_r(&seed) % 8) {
        case 0:
        case 1:
            expect(b2b_sign(demo_key, "CLIENT", "2024-01-01T00:00:00+07:00", &out), B2B_OK, "sign");
            break;
        case 2:
            expect(b2b_get_token(config, &out), B2B_OK, "get_token");
            break;
        case 3:
        case 4:
            expect(b2b_client_token(shared, &out), B2B_OK, "client_token");
            break;
        case 5:
            expect(b2b_client_invalidate(shared), B2B_OK, "invalidate");
            break;
        case 6:
            expect(b2b_get_token(bad_config, &out), B2B_PROVIDER, "provoked unknown client");
            break;
        default:
            expect(b2b_sign("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----", "c", "t", &out), B2B_KEY,
                   "provoked bad key");
            expect(b2b_get_token("{\"provider\":", &out), B2B_INVALID_ARGUMENT, "provoked bad JSON");
            expect(b2b_sign(NULL, "c", "t", &out), B2B_INVALID_ARGUMENT, "provoked NULL");
            break;
        }
        b2b_free(out);
    }
    return NULL;
}

int main(void) {
    const char *dir = getenv("SNAPB2B_SANDBOX_DIR");
    if (!dir) {
        fprintf(stderr, "SNAPB2B_SANDBOX_DIR is not set (run through scripts/with-sandbox.sh)\n");
        return 2;
    }
    int seconds = getenv("SNAPB2B_SOAK_SECONDS") ? atoi(getenv("SNAPB2B_SOAK_SECONDS")) : 60;
    long max_growth = getenv("SNAPB2B_SOAK_MAX_GROWTH_KB") ? atol(getenv("SNAPB2B_SOAK_MAX_GROWTH_KB")) : 8192;
    char path[600];
    snprintf(path, sizeof path, "%s/sandbox.json", dir);
    char *info = read_file(path);
    if (!info) return 2;
    json_str(info, "base_url", base_url, sizeof base_url);
    json_str(info, "ca_file", ca_file, sizeof ca_file);
    json_str(info, "private_key_file", key_file, sizeof key_file);
    free(info);
    demo_key = read_file(key_file);
    char config[2048];
    snprintf(config, sizeof config,
             "{\"provider\":\"nicepay\",\"base_url\":\"%s\",\"client_id\":\"SANDBOX-CLIENT\",\"private_key_file\":\"%s\",\"ca_file\":\"%s\"}",
             base_url, key_file, ca_file);
    if (b2b_client_new(config, &shared) != B2B_OK) {
        fprintf(stderr, "client: %s\n", b2b_last_error());
        return 2;
    }

    pthread_t threads[8];
    for (long i = 0; i < 8; i++) pthread_create(&threads[i], NULL, worker, (void *)i);
    int warmup = seconds >= 10 ? seconds / 5 : 2;
    long baseline = 0, peak = 0;
    for (int s = 1; s <= seconds; s++) {
        sleep(1);
        long now = rss_kb();
        if (s == warmup) baseline = now;
        if (s >= warmup && now > peak) peak = now;
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < 8; i++) pthread_join(threads[i], NULL);
    b2b_client_free(shared);
    free(demo_key);

    long growth = peak - baseline;
    printf("soak: %d s, %ld operations, %ld unexpected, RSS after warm-up %ld KiB, peak %ld KiB, growth %ld KiB (bound %ld)\n",
           seconds, atomic_load(&ops), atomic_load(&unexpected), baseline, peak, growth, max_growth);
    int failed = (atomic_load(&unexpected) != 0) + (growth > max_growth) + (atomic_load(&ops) < 100);
    printf("%d passed, %d failed\n", 3 - failed, failed);
    return failed ? 1 : 0;
}
