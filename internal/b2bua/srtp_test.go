package b2bua

import (
	"strings"
	"testing"
)

func TestKeysFor(t *testing.T) {
	body := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 4000 RTP/AVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkw\r\n" +
		"a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkw\r\na=sendrecv\r\n"
	if got := string(keysFor([]byte(body), "TLS")); got != body {
		t.Errorf("over TLS the keys must pass unchanged:\n%s", got)
	}
	for _, tr := range []string{"UDP", "TCP", "udp", ""} {
		got := string(keysFor([]byte(body), tr))
		if strings.Contains(got, "crypto") || strings.Contains(got, "inline:") {
			t.Errorf("%s: keys left in\n%s", tr, got)
		}
		if !strings.Contains(got, "m=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n") {
			t.Errorf("%s: the rest of the SDP changed:\n%s", tr, got)
		}
	}
}
