package console

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/admin"
)

// phoneInfo is what the desks and devices lists show of a phone beyond
// its record (issue 17 item 7): where it registered from, what it is, when
// it last fetched its configuration, and its login pipeline.
type phoneInfo struct {
	Registered bool
	IP         string // of the first live contact's source
	UserAgent  string
	LastFetch  time.Time
	FetchedAt  string    // LastFetch for people ("09:14", "Mon 2 Mar 09:14"); "" if never
	Pipe       *pipeView // nil: no login or retry seen since the start
}

// phone gathers a device's phoneInfo; blf reports whether a user has BLF
// keys (for the pipeline's last step).
// loc is the site's time zone.
func (c *Console) phone(dev string, contacts []hotdesk.Binding, blf func(ext string) bool, loc *time.Location) phoneInfo {
	pi := phoneInfo{Registered: len(contacts) > 0}
	if pi.Registered {
		b := contacts[0]
		pi.IP, pi.UserAgent = b.Source, b.UserAgent
		if host, _, err := net.SplitHostPort(b.Source); err == nil {
			pi.IP = host
		}
	}
	p, fetched := c.phones.get(dev)
	pi.LastFetch = fetched
	if !fetched.IsZero() {
		pi.FetchedAt = clockTime(fetched, c.now(), loc)
	}
	if p != nil {
		pi.Pipe = p.view(c.now(), pi.Registered, p.Extension != "" && blf != nil && blf(p.Extension))
	}
	return pi
}

// seedPhones reads the last provisioning fetches back once; a failure is
// logged and the page shows what the bus told since the start.
func (c *Console) seedPhones(r *http.Request) {
	if err := c.phones.seed(r.Context(), c.store); err != nil {
		c.log.Warn("console: phone fetch times", "err", err)
	}
}

var actionDone = map[string]string{
	admin.ActionCheckSync: "Sent check-sync to", admin.ActionReprovision: "Asked to re-provision:",
	admin.ActionReboot: "Asked to reboot:",
}

// phoneAction sends check-sync, reprovision or reboot to a phone.
func (c *Console) phoneAction(w http.ResponseWriter, r *http.Request) error {
	id, action := r.PathValue("id"), r.PostFormValue("action")
	n, err := c.admin.PhoneAction(r.Context(), source(r), id, action)
	if err != nil {
		return err
	}
	if action == admin.ActionReprovision {
		c.restartPipeline(r, id)
	}
	msg := fmt.Sprintf("%s %s (%d %s).", actionDone[action], id, n, plural(n, "contact", "contacts"))
	if n == 0 {
		msg = id + " is not registered: nothing was sent."
	}
	return redirect(w, r, "/devices/"+url.PathEscape(id)+"?flash="+url.QueryEscape(msg))
}

// deskRetry is the desks page's retry of a stalled or failed pipeline: it
// asks the phone to re-provision and follows the pipeline again.
func (c *Console) deskRetry(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if _, err := c.admin.PhoneAction(r.Context(), source(r), id, admin.ActionReprovision); err != nil {
		return err
	}
	c.restartPipeline(r, id)
	if isHTMX(r) {
		r.URL.RawQuery = r.PostForm.Get("filter")
		return c.desksTable(w, r)
	}
	return redirect(w, r, "/?flash="+urlq("Asked "+id+" to re-provision."))
}

func (c *Console) restartPipeline(r *http.Request, id string) {
	ext := ""
	if l, err := c.store.LoginByDevice(r.Context(), id); err == nil {
		ext = l.Extension
	}
	c.phones.restart(id, ext)
}

type sipPasswordData struct {
	Device   *hotdesk.Device
	Password string
}

func (d *sipPasswordData) title() string { return "New SIP password for " + d.Device.ID }

// sipPassword resets a phone's SIP password and shows the new one once.
func (c *Console) sipPassword(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	pw, err := c.admin.ResetSIPPassword(r.Context(), source(r), id)
	if err != nil {
		return err
	}
	dev, err := c.store.FindDevice(r.Context(), id)
	return c.show(w, r, http.StatusOK, "sippassword", &sipPasswordData{Device: dev, Password: pw}, err)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// shortUA trims a user agent to what fits a list cell.
func shortUA(ua string) string {
	if len(ua) > 32 {
		return strings.TrimSpace(ua[:32]) + "…"
	}
	return ua
}
