/* Signs client_id|timestamp with b2b_sign and prints the base64 signature:
 *   sign_tool KEYFILE CLIENT_ID TIMESTAMP
 * Used by tests/crosscheck.sh to compare with `openssl dgst -sha256 -sign`.
 */
#include <stdio.h>
#include <stdlib.h>

#include "snapb2b.h"

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s KEYFILE CLIENT_ID TIMESTAMP\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 2; }
    static char key[65536];
    size_t n = fread(key, 1, sizeof key - 1, f);
    fclose(f);
    key[n] = '\0';
    char *sig = NULL;
    int rc = b2b_sign(key, argv[2], argv[3], &sig);
    if (rc != B2B_OK) {
        fprintf(stderr, "%s\n", b2b_last_error());
        return rc;
    }
    printf("%s\n", sig);
    b2b_free(sig);
    return 0;
}
