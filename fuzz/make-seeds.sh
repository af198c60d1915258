#!/usr/bin/env bash
# Writes the hand-made seed inputs (files named seed-*) into fuzz/corpus/<target>/
# from real material: the public demo key (tests/vectors), the provider
# documents' sample requests and responses, sample configs and HTTP requests.
# The corpus is committed; run this only to rebuild the seeds (it replaces the
# seed-* files and keeps whatever the fuzzer added).
#   fuzz/make-seeds.sh [DEMO_KEY_PEM]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
key=${1:-${SNAPB2B_DEMO_KEY:-$here/../tests/vectors/public-demo-key.pem}}
[ -r "$key" ] || { echo "make-seeds: demo key not found: $key" >&2; exit 1; }
command -v openssl >/dev/null || { echo "make-seeds: needs the openssl command" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
C=$here/corpus
for t in private_key public_key config token_response minify service_digest sandbox_request; do
  mkdir -p "$C/$t"
  rm -f "$C/$t"/seed-*
done

# --- key material -----------------------------------------------------------
openssl pkey -in "$key" -out "$tmp/pkcs8.pem"
openssl rsa -in "$key" -traditional -out "$tmp/pkcs1.pem" 2>/dev/null
openssl pkcs8 -topk8 -in "$key" -v2 aes-256-cbc -iter 1000 -passout pass:s3cret-pass -out "$tmp/enc8.pem"
openssl rsa -in "$key" -traditional -aes128 -passout pass:s3cret-pass -out "$tmp/enc1.pem" 2>/dev/null
openssl pkey -in "$key" -pubout -out "$tmp/spki.pem"
openssl rsa -in "$key" -RSAPublicKey_out -out "$tmp/rsapub.pem" 2>/dev/null
openssl req -new -x509 -key "$key" -subj "/CN=snapb2b fuzz seed" -days 3650 \
  -set_serial 1 -out "$tmp/cert.pem" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/ec.pem" 2>/dev/null
openssl pkey -in "$tmp/ec.pem" -pubout -out "$tmp/ecpub.pem"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$tmp/rsa1024.pem" 2>/dev/null
openssl pkey -in "$tmp/rsa1024.pem" -pubout -out "$tmp/rsa1024pub.pem"

body() { grep -v -- '-----' "$1" | tr -d '\n'; }      # bare base64 on one line
body_lines() { grep -v -- '-----' "$1"; }              # bare base64, wrapped
crlf() { sed 's/$/\r/' "$1"; }
literal_n() { awk 'BEGIN{ORS="\\n"} {print}' "$1"; }  # newlines as the two characters \n

K=$C/private_key
cp "$tmp/pkcs8.pem" "$K/seed-pkcs8.pem"
cp "$tmp/pkcs1.pem" "$K/seed-pkcs1.pem"
body "$tmp/pkcs8.pem" > "$K/seed-pkcs8-bare"
body_lines "$tmp/pkcs1.pem" > "$K/seed-pkcs1-bare-wrapped"
crlf "$tmp/pkcs8.pem" > "$K/seed-pkcs8-crlf.pem"
crlf "$tmp/pkcs1.pem" > "$K/seed-pkcs1-crlf.pem"
literal_n "$tmp/pkcs8.pem" > "$K/seed-pkcs8-env"
{ printf '"'; literal_n "$tmp/pkcs1.pem"; printf '"'; } > "$K/seed-pkcs1-env-quoted"
tr -d '\n' < "$tmp/pkcs8.pem" > "$K/seed-pkcs8-stripped"
{ printf '  \n'; cat "$tmp/pkcs8.pem"; printf '\n\n  '; } > "$K/seed-pkcs8-padded"
{ cat "$tmp/enc8.pem"; printf '\0s3cret-pass'; } > "$K/seed-enc-pkcs8-pass"
{ cat "$tmp/enc8.pem"; printf '\0wrong'; } > "$K/seed-enc-pkcs8-wrong"
cp "$tmp/enc8.pem" "$K/seed-enc-pkcs8-nopass"
{ cat "$tmp/enc1.pem"; printf '\0s3cret-pass'; } > "$K/seed-enc-pkcs1-pass"
{ openssl pkcs8 -topk8 -in "$key" -v2 aes-128-cbc -iter 1000 -passout pass:s3cret-pass -outform DER \
    | openssl base64 -A; printf '\0s3cret-pass'; } > "$K/seed-enc-pkcs8-bare-pass"
cp "$tmp/spki.pem" "$K/seed-public"
cp "$tmp/cert.pem" "$K/seed-certificate"
cp "$tmp/ec.pem" "$K/seed-ec"
cp "$tmp/rsa1024.pem" "$K/seed-rsa1024"
printf -- '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n' > "$K/seed-openssh"
head -c 300 "$tmp/pkcs8.pem" > "$K/seed-truncated"

P=$C/public_key
cp "$tmp/spki.pem" "$P/seed-spki.pem"
cp "$tmp/rsapub.pem" "$P/seed-rsapub.pem"
cp "$tmp/cert.pem" "$P/seed-cert.pem"
body "$tmp/spki.pem" > "$P/seed-spki-bare"
body "$tmp/rsapub.pem" > "$P/seed-rsapub-bare"
body "$tmp/cert.pem" > "$P/seed-cert-bare"
crlf "$tmp/spki.pem" > "$P/seed-spki-crlf.pem"
literal_n "$tmp/cert.pem" > "$P/seed-cert-env"
cp "$tmp/ecpub.pem" "$P/seed-ec"
cp "$tmp/rsa1024pub.pem" "$P/seed-rsa1024"
cp "$tmp/pkcs8.pem" "$P/seed-private"

# --- configs ----------------------------------------------------------------
inline=$(literal_n "$tmp/pkcs8.pem")
G=$C/config
cat > "$G/seed-doku.json" <<JSON
{"provider":"doku","environment":"sandbox","client_id":"MCH-0008-1296507211683","private_key":"$inline"}
JSON
cat > "$G/seed-nicepay-file.json" <<JSON
{"provider":"nicepay","environment":"production","client_id":"NORMALTEST","private_key_file":"/nonexistent/merchant.pem","timeout_ms":20000,"connect_timeout_ms":3000}
JSON
cat > "$G/seed-klikoo.json" <<JSON
{"provider":"klikoo","base_url":"https://b2b-api.example.id/","client_id":"3f9c8962-4c4b-4bb6-b3c1-8fc883519c02","client_secret":"9ec999e21a3be41064c52bb3f37554a2","private_key_file":"merchant.pem","timestamp_style":"wib_ms"}
JSON
cat > "$G/seed-snap-client.json" <<JSON
{"provider":"snap","base_url":"http://127.0.0.1:8443","allow_http":true,"token_path":"/snap/v1.0/access-token/b2b","client_id":"SANDBOX-CLIENT","private_key_file":"merchant.pem","private_key_passphrase":"s3cret-pass","refresh_margin_s":120,"cache_file":"/tmp/snapb2b-token.json","max_retries":3,"timestamp_style":"utc"}
JSON
cat > "$G/seed-ca-file.json" <<JSON
{"provider":"snap","base_url":"https://127.0.0.1:8443","ca_file":"/etc/hostname","client_id":"SANDBOX-CLIENT","private_key_file":"k.pem","timestamp_style":"utc_ms","environment":"sandbox"}
JSON
printf '%s\n' '{"provider":"doku","provider":"snap","base_url":"https://x","client_id":"a","private_key":"k"}' > "$G/seed-duplicate-key.json"
printf '%s\n' '{"provider":"doku","base_url":"https://user:pw@x/a?b#c","client_id":"a b\u00e9","private_key":"k","privat_key":null}' > "$G/seed-bad.json"
printf '%s\n' '{"provider":"doku","base_url":"http://x","client_id":"c","private_key":"  ","timeout_ms":0,"max_retries":-1}' > "$G/seed-bad-values.json"
printf '%s' '[{"provider":"doku"}]' > "$G/seed-array.json"
cat > "$G/seed-profile.json" <<'JSON'
{"profile":{"name":"bnc","token_path":"/open/bi/1.0.0/get/token","timestamp_style":"wib","headers":{"X-Channel":"web"},"body":{"grant_type_key":"grant_type","additional_info":{"m":1},"credentials":"additional_info"},"response":{"response_code":["responseCode","responseCd"],"data":"data"},"success_codes":["200*"],"invalid_token_codes":["401??01"],"hints":[{"code":"400??6508","words":["signature"],"hint":"signature"}]},"base_url":"https://x","client_id":"c","client_secret":"s","private_key":"k"}
JSON
printf '%s\n' '{"provider":"klikoo","profile":{"headers":{"Host":"x","a b":"\u0000"},"body":{"grantType":1},"hints":[{"hint":"nope"}]},"base_url":"https://x","client_id":"c","private_key":"k"}' > "$G/seed-profile-bad.json"

# --- provider responses -----------------------------------------------------
R=$C/token_response
resp() { printf '%s\n' "$2" > "$R/seed-$1"; }
resp doku-ok '200
Content-Type: application/json
X-CLIENT-KEY: MCH-0008-1296507211683
X-TIMESTAMP: 2022-10-07T14:26:50+07:00

{
"responseCode": "2007300",
"responseMessage": "Successful",
"accessToken": "eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjE2NjUxMjc3OTEsIm5iZiI6MTY2NTEyNjg5MSwiaXNzIjoiRE9LVSIsImlhdCI6",
"tokenType": "Bearer",
"expiresIn": 900,
"additionalInfo": ""
}'
resp nicepay-ok '200

{"responseCode":"2007300","responseMessage":"Successful","accessToken":"xY8DUzzAVV9bwDXXRxcB89TsUvK4MF4Kx4lgfe4ACRvXr7xdERhbe1","tokenType":"Bearer","expiresIn":"900"}'
resp klikoo-ok '200
Date: Tue, 14 Nov 2023 22:13:20 GMT

{
"response_code": "200012000",
"response_message": "Sukses",
"data": {
"access_token": "user_access_token",
"token_type": "Bearer",
"expires_in": 900
}
}'
resp unknown-client '401
X-TIMESTAMP: 2023-11-14T22:13:20+07:00

{"responseCode": "4017300","responseMessage": "Unauthorized. Unknown Client"}'
resp bad-signature '401
Date: Wed, 15 Nov 2023 02:13:20 GMT

{"responseCode":"4017300","responseMessage":"Unauthorized. Signature"}'
resp bad-timestamp '400

{"responseCode":"4007301","responseMessage":"Invalid Field Format [X-TIMESTAMP]"}'
resp stale-timestamp '401
X-TIMESTAMP: 2023-11-14T22:20:00.123Z

{"responseCode":4017300,"responseMessage":"Unauthorized. Stale Timestamp"}'
resp error-in-200 '200

{"responseCode":"4017300","responseMessage":"Unauthorized","accessToken":"abc"}'
resp html-502 '502
Content-Type: text/html

<html><body>Bad Gateway</body></html>'
resp no-token '200

{"responseCode":"2007300","responseMessage":"Successful","tokenType":"Bearer"}'
resp klikoo-null-data '200

{"response_code":"200012000","data":null}'
resp expires-variants '200

{"accessToken":"a.b.c","expiresIn":" 900 ","response_code":"200","data":{"access_token":"t","expires_in":9.0e2}}'
resp bad-expires '200

{"accessToken":"a b","expiresIn":-5,"data":{"access_token":12,"expires_in":"soon"}}'
resp rate-limited '429
Retry-After: 1

{"responseCode":"4297300","responseMessage":"Too Many Requests"}'
printf '{"accessToken":"bare-body","expiresIn":1.5}' > "$R/seed-body-only"

# --- JSON bodies --------------------------------------------------------------
M=$C/minify
printf '{\n"grantType":"client_credentials"\n}\n' > "$M/seed-token-request.json"
printf '{ "grantType" : "client_credentials", "additionalInfo" : { } }' > "$M/seed-nicepay-request.json"
printf '{\n"grant_type": "client_credentials",\n"additional_info": {\n"client_id": "{{B2B_CLIENT_ID}}",\n"client_secret": "{{B2B_CLIENT_SECRET}}"\n}\n}\n' > "$M/seed-klikoo-request.json"
sed -n '/^{/,/^}/p' "$R/seed-doku-ok" > "$M/seed-doku-response.json"
sed -n '/^{/,/^}/p' "$R/seed-klikoo-ok" > "$M/seed-klikoo-response.json"
printf '[1.0e+2, -0.5E-3 ,\n 10, 0, -0, 1e400, 123456789012345678901234567890]' > "$M/seed-numbers.json"
printf '{"url":"http:\\/\\/x.y/ z","q":"say \\"hi\\" ","s":"caf\\u00e9 \xe6\x97\xa5\\\\","e":"\\\\","f" : " ", "sur":"\\ud83d\\ude00"}' > "$M/seed-strings.json"
printf ' [ true ,false, null ,{"a":[{},[]]}, "t\\tab" ]\r\n' > "$M/seed-literals.json"
printf '{"a":1,"a":2}' > "$M/seed-duplicate.json"
printf '"\\ud800"' > "$M/seed-lone-surrogate.json"
if [ -r "$(dirname "$key")/snap-vectors.json" ]; then
  cp "$(dirname "$key")/snap-vectors.json" "$M/seed-snap-vectors.json"
fi

# --- service signature strings -----------------------------------------------
S=$C/service_digest
printf '{\n  "partnerReferenceNo": "2020102900000000000001",\n  "amount": {"value": "12345678.00", "currency": "IDR"},\n  "merchantId": "00007100010926"\n}\0POST\0/v1.0/qr/qr-mpm-generate\0myaccesstoken\0002024-03-05T10:37:16.196Z\0c2ln' \
  | sed 's/\x00002024/\x002024/' > "$S/seed-qr-mpm"
printf '\0get\0/v1.0/balance-inquiry?a=1\0tok\0002023-11-15T05:13:20+07:00\0!!notbase64' | sed 's/\x00002023/\x002023/' > "$S/seed-no-body"
printf '  \0POST\0/x\0t\0yesterday' > "$S/seed-blank-body"
printf '{"a":1}\0PO ST\0\0\0' > "$S/seed-bad-fields"
cp "$M/seed-strings.json" "$S/seed-strings.json"
cp "$M/seed-numbers.json" "$S/seed-numbers.json"

# --- HTTP requests to the sandbox ---------------------------------------------
H=$C/sandbox_request
tok='{"grantType":"client_credentials"}'
req() { printf '%b' "$2" > "$H/seed-$1"; }
req doku "POST /authorization/v1/access-token/b2b HTTP/1.1\r\nHost: 127.0.0.1:8443\r\nUser-Agent: snapb2b/0.1.0\r\nContent-Type: application/json\r\nAccept: application/json\r\nX-TIMESTAMP: 2024-03-01T08:27:49Z\r\nX-CLIENT-KEY: SANDBOX-CLIENT\r\nX-SIGNATURE: WzW49tYIgKIBmBi/gVBHGLAkhEaZlXM11zcZxAiyHji6TLPjPbwLu3Z45it25AIeG0XDItcd==\r\nContent-Length: ${#tok}\r\n\r\n$tok"
kl='{"grant_type":"client_credentials","additional_info":{"client_id":"3f9c8962-4c4b-4bb6-b3c1-8fc883519c02","client_secret":"x"}}'
req klikoo "POST /v1/open-api/access-token HTTP/1.1\r\nHost: localhost\r\nOpen-Api-Timestamp: 2022-03-21T10:11:40+07:00\r\nOpen-Api-Signature: awEsV5A5cwq+L9vYkcCxy9HJRjtL==\r\nContent-Type: application/json\r\nContent-Length: ${#kl}\r\n\r\n$kl"
req expect "POST /nicepay/v1.0/access-token/b2b HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 51\r\n\r\n{\"grantType\":\"client_credentials\",\"additionalInfo\":{}}"
req pipelined "GET /sandbox/stats HTTP/1.1\r\nHost: x\r\n\r\nPOST /sandbox/stats/reset HTTP/1.1\r\nContent-Length: 0\r\n\r\nGET /sandbox/health?x=1#f HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
req bare-lf "\r\n\nPOST /v1.0/access-token/b2b HTTP/1.1\nContent-Length: 2\nConnection: close, TE\n\n{}"
req chunked "POST /v1.0/access-token/b2b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
req conflicting-length "POST / HTTP/1.1\r\nContent-Length: 2\r\ncontent-length: 3\r\n\r\n{}"
req huge-length "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n"
req folded "GET / HTTP/1.1\r\nX-A: 1\r\n  folded\r\n\r\n"
req version "GET / HTTP/2.0\r\n\r\nGET /\r\n\r\n"
req short-body "POST /v1.0/access-token/b2b HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"grantType\""
echo "make-seeds: wrote $(ls "$C"/*/seed-* | wc -l) seeds under $C"
