package app

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hotdesk-pbx/hotdesk/internal/signaling/sipcorpus"
)

// The malformed and torture corpus against the whole PBX (registrar,
// feature codes, B2BUA behind the router), over UDP and TCP: each message
// gets its expected answer, nothing crashes, a phone still registers and
// logs in afterwards, and /metrics counts what was refused.
func TestServeSurvivesCorpus(t *testing.T) {
	cases, err := sipcorpus.Load("../signaling/testdata/corpus")
	if err != nil {
		t.Fatal(err)
	}
	r := mustStart(t, testConfig(t.TempDir(), true))
	t.Run("corpus", func(t *testing.T) { sipcorpus.Run(t, r.SIPAddr(), cases, 300*time.Millisecond) })

	p := demoPhone(t, r, "HD00001")
	loginByPhone(t, p, "*35*201*1234")
	if got := r.logins(t); !strings.Contains(got, "201@HD00001") {
		t.Fatalf("logins after the corpus: %q", got)
	}
	res, err := http.Get(r.HTTPURL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	for _, want := range []string{
		`hotdesk_sip_bad_messages_total{kind="missing_header",transport="UDP"}`,
		`hotdesk_sip_bad_messages_total{kind="version",transport="TCP"}`,
		"hotdesk_sip_tcp_connections ",
		"hotdesk_sip_accept_errors_total ",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
