/*
 * Signing throughput of b2b_sign against raw OpenSSL, same key, same data.
 *
 *   sign_bench KEY.pem SECONDS REPEATS
 *
 * Prints one line per measurement, "name calls_per_second calls_per_cpu_second":
 * the best of REPEATS runs of SECONDS by wall-clock time (best of N filters
 * out noise from other processes on a small shared machine), and the best by
 * the process's CPU time, which preemption by other processes does not
 * inflate (wall / CPU rate = cores used):
 *
 *   openssl_1t   EVP_DigestSign with an EVP_PKEY parsed once, before timing
 *   b2b_1t       b2b_sign with the PEM text on every call (same string)
 *   b2b_2t       the same on 2 threads at once (total calls/s)
 *   openssl_2t   raw OpenSSL on 2 threads sharing one EVP_PKEY (total), to
 *                tell the library's scaling from OpenSSL's and the machine's
 *
 * Before timing it checks that both produce the same signature (PKCS#1 v1.5
 * is deterministic), so the two loops provably do the same job.
 */
#define _POSIX_C_SOURCE 200809L
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "snapb2b.h"

static const char *CLIENT_ID = "BENCH-CLIENT-0001";
static const char *TIMESTAMP = "2024-12-31T10:11:40+07:00";

static char *pem_text;     /* the key file's contents, passed to b2b_sign */
static EVP_PKEY *pkey;     /* parsed once: the baseline's "already-parsed key" */
static char data[128];     /* CLIENT_ID "|" TIMESTAMP */
static size_t data_len;
static double run_seconds;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what) {
    fprintf(stderr, "sign_bench: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(2);
}

/* One raw OpenSSL signature: what a C program holding a parsed key does per
 * request (a fresh digest context each time, like the library does). No
 * base64: the baseline is the bare signature, which slightly favours it. */
static size_t openssl_sign_once(unsigned char *sig, size_t cap) {
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t len = cap;
    if (ctx == NULL || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pkey) != 1 ||
        EVP_DigestSign(ctx, sig, &len, (const unsigned char *)data, data_len) != 1)
        die("EVP_DigestSign failed");
    EVP_MD_CTX_free(ctx);
    return len;
}

static void b2b_sign_once(void) {
    char *sig = NULL;
    if (b2b_sign(pem_text, CLIENT_ID, TIMESTAMP, &sig) != B2B_OK) {
        fprintf(stderr, "b2b_sign: %s\n", b2b_last_error());
        exit(2);
    }
    b2b_free(sig);
}

/* Calls fn until run_seconds have passed; returns the number of calls.
 * Checking the clock every call costs ~20 ns against ~1 ms per signature. */
static long loop(int use_b2b) {
    unsigned char sig[1024];
    long n = 0;
    double end = now() + run_seconds;
    do {
        if (use_b2b)
            b2b_sign_once();
        else
            openssl_sign_once(sig, sizeof sig);
        n++;
    } while (now() < end);
    return n;
}

struct worker {
    int use_b2b;
    pthread_barrier_t *start;
    long calls;
};

static void *worker_main(void *arg) {
    struct worker *w = arg;
    pthread_barrier_wait(w->start); /* all threads start together */
    w->calls = loop(w->use_b2b);
    return NULL;
}

static double cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru); /* all threads of the process */
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* Total calls/s of `threads` threads each looping for run_seconds; *per_cpu
 * gets calls per CPU-second. Their quotient, CPU time / wall time, is about
 * `threads` when every thread had a core to itself, less when other
 * processes took CPU (or the threads waited for each other). */
static double rate(int use_b2b, int threads, double *per_cpu) {
    struct worker w[16];
    pthread_t t[16];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
    for (int i = 0; i < threads; i++) {
        w[i] = (struct worker){use_b2b, &start, 0};
        pthread_create(&t[i], NULL, worker_main, &w[i]);
    }
    pthread_barrier_wait(&start);
    double t0 = now(), c0 = cpu_seconds();
    long total = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        total += w[i].calls;
    }
    double elapsed = now() - t0;
    *per_cpu = total / (cpu_seconds() - c0);
    pthread_barrier_destroy(&start);
    return total / elapsed;
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        die("cannot open key file");
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* The same signature from both paths, or the comparison means nothing. */
static void check_same_signature(void) {
    unsigned char raw[1024], b64[2048];
    size_t len = openssl_sign_once(raw, sizeof raw);
    EVP_EncodeBlock(b64, raw, (int)len);
    char *sig = NULL;
    if (b2b_sign(pem_text, CLIENT_ID, TIMESTAMP, &sig) != B2B_OK)
        die("b2b_sign failed");
    if (strcmp(sig, (char *)b64) != 0)
        die("b2b_sign and OpenSSL signatures differ");
    b2b_free(sig);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: sign_bench KEY.pem SECONDS REPEATS\n");
        return 2;
    }
    pem_text = read_file(argv[1]);
    run_seconds = atof(argv[2]);
    int repeats = atoi(argv[3]);
    data_len = (size_t)snprintf(data, sizeof data, "%s|%s", CLIENT_ID, TIMESTAMP);

    BIO *bio = BIO_new_mem_buf(pem_text, -1);
    pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (pkey == NULL)
        die("cannot parse the key");
    check_same_signature(); /* also warms the library's key cache */

    /* Rounds interleave the four measurements, so a burst of load from
     * another process hits one round of each rather than all of one. */
    static const struct { const char *name; int use_b2b, threads; } m[] = {
        {"openssl_1t", 0, 1}, {"b2b_1t", 1, 1}, {"b2b_2t", 1, 2}, {"openssl_2t", 0, 2}};
    double best[4] = {0}, best_cpu[4] = {0};
    for (int r = 0; r < repeats; r++)
        for (int i = 0; i < 4; i++) {
            double c, x = rate(m[i].use_b2b, m[i].threads, &c);
            if (x > best[i])
                best[i] = x;
            if (c > best_cpu[i])
                best_cpu[i] = c;
        }
    for (int i = 0; i < 4; i++)
        printf("%s %.1f %.1f\n", m[i].name, best[i], best_cpu[i]);
    fflush(stdout);
    EVP_PKEY_free(pkey);
    return 0;
}
