package b2bua

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/google/uuid"
	"github.com/icholy/digest"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/signaling"
)

// TrunkExpiry is the registration lifetime asked of the provider.
const TrunkExpiry = 3600

// errNoResponse is a transaction that ended without a final response and
// without an error of its own (sipgo returns nil, nil then).
var errNoResponse = errors.New("no response")

// TrunkStatus is the trunk registration's state, for the console and API.
type TrunkStatus struct {
	Registered bool      `json:"registered"`
	Expires    time.Time `json:"expires,omitzero"` // when the provider's registration ends unless refreshed
	Error      string    `json:"error,omitempty"`  // why the last attempt failed
	Updated    time.Time `json:"updated"`
}

// trunkRegState holds the registration's state.
type trunkRegState struct {
	mu     sync.Mutex
	status TrunkStatus
	callID string
	cseq   uint32
}

// TrunkStatus reports the trunk registration's state.
func (b *B2BUA) TrunkStatus() TrunkStatus {
	b.reg.mu.Lock()
	defer b.reg.mu.Unlock()
	return b.reg.status
}

func (b *B2BUA) setTrunkStatus(ok bool, expires time.Time, err error) {
	b.reg.mu.Lock()
	defer b.reg.mu.Unlock()
	b.reg.status = TrunkStatus{Registered: ok, Expires: expires, Updated: b.o.Now()}
	if err != nil {
		b.reg.status.Error = err.Error()
	}
}

// registerLoop keeps the trunk registered while the settings ask for it
// (Trunk.Enabled and Trunk.Register): it registers, refreshes before the
// provider's expiry (halfway, or a minute early for long lifetimes),
// retries failures every RegisterRetry, follows settings changes, and
// unregisters when registration is switched off or ctx ends.
func (b *B2BUA) registerLoop(ctx context.Context) {
	b.reg.callID = uuid.NewString()
	var current *hotdesk.Trunk // what the provider has us registered with
	var due time.Time
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			if current != nil {
				b.unregister(*current)
			}
			return
		case <-timer.C:
		}
		tr := b.o.Settings(ctx).Trunk
		want := tr.Enabled && tr.Register && tr.Proxy != "" && tr.Username != ""
		if current != nil && (!want || !sameRegistration(*current, tr)) {
			b.unregister(*current)
			current = nil
		}
		if want && (current == nil || !time.Now().Before(due)) {
			exp, err := b.registerTrunk(ctx, tr, TrunkExpiry)
			if err != nil {
				b.log.Warn("b2bua: trunk registration failed", "proxy", tr.Proxy, "err", err)
				b.setTrunkStatus(false, time.Time{}, err)
				current = nil
			} else {
				b.log.Info("b2bua: trunk registered", "proxy", tr.Proxy, "expires", exp)
				b.setTrunkStatus(true, b.o.Now().Add(exp), nil)
				current, due = &tr, time.Now().Add(refreshAfter(exp))
			}
		} else if !want {
			b.setTrunkStatus(false, time.Time{}, nil)
		}
		wait := b.o.RegisterRetry
		if current != nil {
			wait = min(wait, max(time.Until(due), 10*time.Millisecond))
		}
		timer.Reset(wait)
	}
}

// refreshAfter is when to re-register a registration that lasts exp.
func refreshAfter(exp time.Duration) time.Duration {
	if exp > 2*time.Minute {
		return exp - time.Minute
	}
	return exp / 2
}

func sameRegistration(a, b hotdesk.Trunk) bool {
	return a.Proxy == b.Proxy && a.Username == b.Username && a.Password == b.Password && a.Domain == b.Domain && a.Realm == b.Realm
}

// unregister removes the registration (Expires: 0), briefly.
func (b *B2BUA) unregister(tr hotdesk.Trunk) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := b.registerTrunk(ctx, tr, 0); err != nil {
		b.log.Info("b2bua: trunk unregister", "proxy", tr.Proxy, "err", err)
	}
	b.setTrunkStatus(false, time.Time{}, nil)
}

// registerTrunk sends one REGISTER for expires seconds, answering one
// digest challenge, and returns the lifetime the provider granted.
func (b *B2BUA) registerTrunk(ctx context.Context, tr hotdesk.Trunk, expires int) (time.Duration, error) {
	host := trunkHost(tr)
	var auth sip.Header
	for attempt := 0; attempt < 2; attempt++ {
		req := b.newTrunkRegister(tr, host, expires, auth)
		res, err := b.o.SIP.Client.Do(ctx, req)
		if err == nil && res == nil {
			err = errNoResponse // the transaction ended without one (transport closed)
		}
		if err != nil {
			return 0, fmt.Errorf("trunk register: %w", err)
		}
		switch {
		case res.IsSuccess():
			return grantedExpiry(res, expires), nil
		case (res.StatusCode == sip.StatusUnauthorized || res.StatusCode == sip.StatusProxyAuthRequired) && attempt == 0:
			if auth, err = trunkCredentials(req, res, tr); err != nil {
				return 0, err
			}
		default:
			return 0, fmt.Errorf("trunk register: %d %s", res.StatusCode, res.Reason)
		}
	}
	return 0, fmt.Errorf("trunk register: credentials refused")
}

func (b *B2BUA) newTrunkRegister(tr hotdesk.Trunk, host string, expires int, auth sip.Header) *sip.Request {
	aor := sip.Uri{Scheme: "sip", User: tr.Username, Host: host}
	b.reg.mu.Lock()
	b.reg.cseq++
	cseq, id := b.reg.cseq, b.reg.callID
	b.reg.mu.Unlock()
	req := b.o.SIP.NewRequest(signaling.Out{Method: sip.REGISTER, URI: sip.Uri{Scheme: "sip", Host: host},
		Dest: trunkAddr(tr), Transport: trunkTransport(tr), From: aor, To: aor, CallID: id, CSeq: cseq})
	req.Contact().Address.User = tr.Username
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
	if auth != nil {
		req.AppendHeader(auth)
	}
	return req
}

// trunkCredentials answers a 401/407 challenge with the trunk's username
// and password (icholy/digest; the password never leaves this function).
func trunkCredentials(req *sip.Request, res *sip.Response, tr hotdesk.Trunk) (sip.Header, error) {
	chalName, credName := "WWW-Authenticate", "Authorization"
	if res.StatusCode == sip.StatusProxyAuthRequired {
		chalName, credName = "Proxy-Authenticate", "Proxy-Authorization"
	}
	h := res.GetHeader(chalName)
	if h == nil {
		return nil, fmt.Errorf("trunk register: %d without %s", res.StatusCode, chalName)
	}
	chal, err := digest.ParseChallenge(h.Value())
	if err != nil {
		return nil, fmt.Errorf("trunk register: challenge: %w", err)
	}
	cred, err := digest.Digest(chal, digest.Options{Method: sip.REGISTER.String(), URI: req.Recipient.Addr(),
		Username: tr.Username, Password: tr.Password, Count: 1})
	if err != nil {
		return nil, fmt.Errorf("trunk register: digest: %w", err)
	}
	return sip.NewHeader(credName, cred.String()), nil
}

// grantedExpiry reads the lifetime from the 200: the Contact's expires
// parameter, else the Expires header, else what was asked.
func grantedExpiry(res *sip.Response, asked int) time.Duration {
	secs := asked
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(h.Value()); err == nil {
			secs = n
		}
	}
	if c := res.Contact(); c != nil && c.Params != nil {
		if v, ok := c.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(v); err == nil {
				secs = n
			}
		}
	}
	return time.Duration(max(secs, 1)) * time.Second
}
