package console

import (
	"context"
	"net/http"
	"net/url"
	"testing"
)

// TestDeviceTransportAndSRTPForm: the device form shows, validates and
// stores the SIP transport and SRTP policy; the settings page the site's
// phone transport and trunk fingerprint.
func TestDeviceTransportAndSRTPForm(t *testing.T) {
	hs, c := newSignedIn(t)
	mustContain(t, c.get("/devices/new"), 200, `name="sip_transport"`, `name="srtp"`)
	form := url.Values{"model": {"snom"}, "mode": {"hotdesk"}, "label": {"Desk 5"}, "sip_transport": {"sctp"}, "srtp": {"always"}}
	mustContain(t, c.post("/devices", form), http.StatusBadRequest, `id="err-sip_transport"`, `id="err-srtp"`)
	form.Set("sip_transport", "tls")
	form.Set("srtp", "required")
	if w := c.post("/devices", form); w.Code != http.StatusOK {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	d := hs.device("HD00001")
	if d.SIPTransport != "tls" || d.SRTP != "required" {
		t.Fatalf("stored transport %q srtp %q", d.SIPTransport, d.SRTP)
	}
	mustContain(t, c.get("/devices/HD00001"), 200, `<option value="tls" selected>`, `<option value="required" selected>`)

	mustContain(t, c.get("/settings"), 200, `name="phone_transport"`, `name="trunk_fingerprint"`)
	st, err := hs.store.GetSettings(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sf := settingsForm(st)
	sf.Values.Set("phone_transport", "tls")
	sf.Values.Set("trunk_fingerprint", "not-a-fingerprint")
	mustContain(t, c.post("/settings", sf.Values), http.StatusBadRequest, `id="err-trunk_fingerprint"`)
	sf.Values.Set("trunk_fingerprint", "")
	if w := c.post("/settings", sf.Values); w.Code != http.StatusSeeOther {
		t.Fatalf("save settings: %d %s", w.Code, w.Body)
	}
	if st, _ = hs.store.GetSettings(context.Background()); st.TLS.PhoneTransport != "tls" {
		t.Fatalf("phone transport stored as %q", st.TLS.PhoneTransport)
	}
}
