/*
 * fork() with a live b2b_client, against the sandbox (SNAPB2B_SANDBOX_DIR,
 * started with --slow-ms 3000): the child must behave as with a new handle
 * (its own connections, no renewal in flight inherited) and the parent's
 * kept-alive connection must keep working. A separate program from
 * test_abi: the child leaks the parent's connections on purpose, which a
 * leak checker would report.
 * Ends with the line "N passed, M failed".
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "snapb2b.h"
#include "test_util.h"

static int passed, failed;
static char base_url[256], ca_file[512], key_file[512], client_secret[128];

static void check(int ok, const char *what, const char *detail) {
    if (ok) {
        passed++;
    } else {
        failed++;
        fprintf(stderr, "FAIL: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    }
}

static char *config_for(const char *client_id, const char *extra) {
    static char buf[4096];
    snprintf(buf, sizeof buf,
             "{\"provider\":\"snap\",\"base_url\":\"%s\",\"client_id\":\"%s\","
             "\"private_key_file\":\"%s\",\"ca_file\":\"%s\",%s}",
             base_url, client_id, key_file, ca_file, extra);
    return buf;
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* 1 if b2b_client_token returned OK and its "cached" flag is `cached`. */
static int token_is(b2b_client *c, int cached) {
    char *json = NULL;
    int rc = b2b_client_token(c, &json);
    int ok = rc == B2B_OK && strstr(json, cached ? "\"cached\":true" : "\"cached\":false");
    if (!ok) fprintf(stderr, "[pid %d] token: %d %s\n", (int)getpid(), rc, rc ? b2b_last_error() : json);
    b2b_free(json);
    return ok;
}

/* Waits for the child; its exit status is the number of its failed checks. */
static void expect_child(pid_t pid, const char *what) {
    int status = 0;
    waitpid(pid, &status, 0);
    char detail[128];
    snprintf(detail, sizeof detail, "%s %d", WIFEXITED(status) ? "exit" : "signal",
             WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    check(WIFEXITED(status) && WEXITSTATUS(status) == 0, what, detail);
}

/* 1 if a VA inquiry is answered 200. */
static int call_ok(b2b_client *c) {
    const char *request = "{\"method\":\"POST\",\"path\":\"/v1.0/transfer-va/inquiry\",\"body\":"
                          "{\"partnerServiceId\":\"  088899\",\"customerNo\":\"1\","
                          "\"virtualAccountNo\":\"  0888991\",\"inquiryRequestId\":\"f\"}}";
    char *resp = NULL;
    int rc = b2b_client_request(c, request, &resp);
    int ok = rc == B2B_OK && json_int(resp, "http_status") == 200;
    if (!ok) fprintf(stderr, "[pid %d] call: %d %s\n", (int)getpid(), rc, rc ? b2b_last_error() : resp);
    b2b_free(resp);
    return ok;
}

static void test_fork_after_a_token(int free_in_child) {
    char extra[512];
    snprintf(extra, sizeof extra, "\"max_retries\":0,\"client_secret\":\"%s\",\"channel_id\":\"95221\"",
             client_secret);
    b2b_client *c = NULL;
    check(b2b_client_new(config_for("SANDBOX-CLIENT", extra), &c) == B2B_OK, "client", b2b_last_error());
    b2b_client_invalidate(c); /* handles of one config share its token: start without */
    check(token_is(c, 0), "parent: first token fetched", NULL);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(20); /* a hang ends as a signal, not a stuck test */
        int bad = 0;
        bad += !token_is(c, 1);   /* the inherited token */
        b2b_client_invalidate(c);
        bad += !token_is(c, 0);   /* a renewal on a connection of its own */
        bad += !token_is(c, 1);
        bad += !call_ok(c);
        /* Either way the parent's connection must not be closed or used. */
        if (free_in_child) b2b_client_free(c);
        _exit(bad);
    }
    expect_child(pid, "child: cached token, a renewal, a call");
    /* The parent's kept-alive connection (its TLS state) was not touched: a
     * call, which is never sent twice, and renewals, with no retry allowed. */
    check(call_ok(c), "parent: a call after the fork", NULL);
    b2b_client_invalidate(c);
    check(token_is(c, 0), "parent: renewal after the fork", NULL);
    b2b_client_invalidate(c);
    check(token_is(c, 0), "parent: another renewal", NULL);
    b2b_client_free(c);
}

static void *renew(void *arg) {
    char *json = NULL;
    b2b_client_token((b2b_client *)arg, &json); /* times out: FAULT-SLOW */
    b2b_free(json);
    return NULL;
}

static void test_fork_during_a_renewal(void) {
    b2b_client *c = NULL;
    check(b2b_client_new(config_for("FAULT-SLOW", "\"max_retries\":0,\"timeout_ms\":1500"), &c) == B2B_OK,
          "slow client", b2b_last_error());
    pthread_t t;
    pthread_create(&t, NULL, renew, c);
    nanosleep(&(struct timespec){0, 400 * 1000 * 1000}, NULL); /* the thread now waits for the slow answer */
    pid_t pid = fork();
    if (pid == 0) {
        alarm(20);
        double start = now_s();
        char *json = NULL;
        int rc = b2b_client_token(c, &json);
        double took = now_s() - start;
        b2b_free(json);
        /* Not the parent's renewal, which no thread here will finish: a
         * request of its own, bounded by timeout_ms. */
        int bad = rc != B2B_TIMEOUT || took > 2.5;
        if (bad) fprintf(stderr, "child: status %d after %.2f s\n", rc, took);
        _exit(bad);
    }
    expect_child(pid, "child forked during a renewal: no hang");
    pthread_join(t, NULL);
    b2b_client_free(c);
}

extern char **environ;

/* A redis-server of this test's own on a free loopback port; 0 when none is
 * installed (the test is then skipped, and says so). */
static int start_redis(pid_t *pid) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(s, (struct sockaddr *)&a, &len) != 0)
        return 0;
    close(s);
    int port = ntohs(a.sin_port);
    char port_text[16];
    snprintf(port_text, sizeof port_text, "%d", port);
    char *argv[] = {"redis-server", "--port", port_text, "--bind", "127.0.0.1", "--save", "",
                    "--appendonly", "no", "--dir", "/tmp", NULL};
    posix_spawn_file_actions_t quiet; /* its log on stdout is not ours */
    posix_spawn_file_actions_init(&quiet);
    posix_spawn_file_actions_addopen(&quiet, 1, "/dev/null", O_WRONLY, 0);
    int spawned = posix_spawnp(pid, "redis-server", &quiet, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&quiet);
    if (spawned != 0)
        return 0;
    for (int i = 0; i < 500; i++) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        int up = connect(c, (struct sockaddr *)&a, sizeof a) == 0;
        close(c);
        if (up)
            return port;
        if (waitpid(*pid, NULL, WNOHANG) == *pid)
            return 0;
        nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
    }
    kill(*pid, SIGKILL);
    waitpid(*pid, NULL, 0);
    return 0;
}

/* A client on Redis (cache_url) used in a forked child: the child talks to
 * Redis over a connection of its own, and the parent's keeps working. */
static void test_fork_with_redis(void) {
    pid_t redis;
    int port = start_redis(&redis);
    if (!port) {
        if (getenv("CI")) check(0, "redis-server is installed (scripts/install-test-deps.sh)", NULL);
        else printf("SKIPPED: fork with cache_url: redis-server is not installed\n");
        return;
    }
    char extra[256];
    snprintf(extra, sizeof extra, "\"cache_url\":\"redis://127.0.0.1:%d\",\"cache_key_prefix\":\"fork:\"", port);
    b2b_client *c = NULL;
    check(b2b_client_new(config_for("SANDBOX-CLIENT", extra), &c) == B2B_OK, "redis client", b2b_last_error());
    check(token_is(c, 0), "parent: fetched, stored in Redis", NULL);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(20);
        int bad = 0;
        bad += !token_is(c, 1);
        b2b_client_invalidate(c); /* also from Redis */
        bad += !token_is(c, 0);   /* renewed, stored in Redis */
        _exit(bad);
    }
    expect_child(pid, "child on Redis: cached token, fleet-wide invalidate, a renewal");
    /* The parent drops its own (older) token: Redis holds the child's, which
     * stays and is what the parent reads next, over its own connection. */
    b2b_client_invalidate(c);
    char *json = NULL;
    int rc = b2b_client_token(c, &json);
    check(rc == B2B_OK && strstr(json, "\"cached\":true") && strstr(json, "\"cache\":\"on\""),
          "parent: the child's token from Redis", rc ? b2b_last_error() : json);
    b2b_free(json);
    b2b_client_free(c);
    kill(redis, SIGKILL);
    waitpid(redis, NULL, 0);
}

int main(void) {
    const char *dir = getenv("SNAPB2B_SANDBOX_DIR");
    if (!dir) {
        fprintf(stderr, "SNAPB2B_SANDBOX_DIR is not set (run through scripts/with-sandbox.sh)\n");
        return 2;
    }
    char path[600];
    snprintf(path, sizeof path, "%s/sandbox.json", dir);
    char *info = read_file(path);
    if (!info) { fprintf(stderr, "cannot read %s\n", path); return 2; }
    json_str(info, "base_url", base_url, sizeof base_url);
    json_str(info, "ca_file", ca_file, sizeof ca_file);
    json_str(info, "private_key_file", key_file, sizeof key_file);
    json_str(info, "klikoo_client_secret", client_secret, sizeof client_secret);
    free(info);

    test_fork_after_a_token(0);
    test_fork_after_a_token(1);
    test_fork_during_a_renewal();
    test_fork_with_redis();

    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
