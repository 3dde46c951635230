package web

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/validate"
)

// webhookIn is a webhook as POST and PATCH read it; nil fields were not
// given.
type webhookIn struct {
	URL     *string   `json:"url"`
	Kinds   *[]string `json:"kinds"`
	Enabled *bool     `json:"enabled"`
}

func (in *webhookIn) check(create bool) error {
	trim(in.URL)
	if in.URL == nil && create {
		return hotdesk.Invalidf("url", "url is required.")
	}
	if in.URL != nil {
		if err := checkWebhookURL(*in.URL); err != nil {
			return err
		}
	}
	if in.Kinds != nil {
		*in.Kinds = splitList(*in.Kinds)
		if err := validate.Kinds("kinds", *in.Kinds, validate.AuditKinds()); err != nil {
			return err
		}
	}
	return nil
}

// webhookOut is a webhook as the API writes it; Secret is set only in the
// create response.
type webhookOut struct {
	ID        int64     `json:"id"`
	URL       string    `json:"url"`
	Kinds     []string  `json:"kinds"` // empty: every kind
	Enabled   bool      `json:"enabled"`
	Secret    string    `json:"secret,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

func webhookJSON(h *hotdesk.Webhook) webhookOut {
	return webhookOut{ID: h.ID, URL: h.URL, Kinds: orEmpty(h.Kinds), Enabled: h.Enabled, CreatedAt: h.CreatedAt}
}

func (a *API) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	hs, err := a.store.ListWebhooks(r.Context())
	if err != nil {
		return fmt.Errorf("list webhooks: %w", err)
	}
	out := make([]webhookOut, 0, len(hs))
	for _, h := range hs {
		out = append(out, webhookJSON(h))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// createWebhook stores a webhook with a new signing secret, which this
// response shows once.
func (a *API) createWebhook(w http.ResponseWriter, r *http.Request) error {
	var in webhookIn
	if _, err := decode(w, r, &in, false); err != nil {
		return err
	}
	if err := in.check(true); err != nil {
		return err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return fmt.Errorf("webhook secret: %w", err)
	}
	h := &hotdesk.Webhook{URL: *in.URL, Secret: hex.EncodeToString(b), Enabled: true, CreatedAt: a.now()}
	set(&h.Kinds, in.Kinds)
	set(&h.Enabled, in.Enabled)
	if err := a.store.CreateWebhook(r.Context(), h); err != nil {
		return fmt.Errorf("create webhook: %w", err)
	}
	a.admin.Audit(r.Context(), Source, &hotdesk.AuditEvent{Kind: hotdesk.KindSettings, Detail: "webhook " + strconv.FormatInt(h.ID, 10) + " created"})
	out := webhookJSON(h)
	out.Secret = h.Secret
	w.Header().Set("Location", "/api/v1/webhooks/"+strconv.FormatInt(h.ID, 10))
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// webhookID parses the {id} path value.
func webhookID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, hotdesk.Errorf(hotdesk.ENOTFOUND, "Webhook %s not found.", r.PathValue("id"))
	}
	return id, nil
}

func (a *API) getWebhook(w http.ResponseWriter, r *http.Request) error {
	id, err := webhookID(r)
	if err != nil {
		return err
	}
	h, err := a.store.FindWebhook(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, webhookJSON(h))
	return nil
}

func (a *API) patchWebhook(w http.ResponseWriter, r *http.Request) error {
	id, err := webhookID(r)
	if err != nil {
		return err
	}
	var in webhookIn
	if _, err := decode(w, r, &in, false); err != nil {
		return err
	}
	if err := in.check(false); err != nil {
		return err
	}
	h, err := a.store.FindWebhook(r.Context(), id)
	if err != nil {
		return err
	}
	set(&h.URL, in.URL)
	set(&h.Kinds, in.Kinds)
	set(&h.Enabled, in.Enabled)
	if err := a.store.UpdateWebhook(r.Context(), h); err != nil {
		return err
	}
	a.admin.Audit(r.Context(), Source, &hotdesk.AuditEvent{Kind: hotdesk.KindSettings, Detail: "webhook " + strconv.FormatInt(id, 10) + " updated"})
	writeJSON(w, http.StatusOK, webhookJSON(h))
	return nil
}

func (a *API) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	id, err := webhookID(r)
	if err != nil {
		return err
	}
	if err := a.store.DeleteWebhook(r.Context(), id); err != nil {
		return err
	}
	a.admin.Audit(r.Context(), Source, &hotdesk.AuditEvent{Kind: hotdesk.KindSettings, Detail: "webhook " + strconv.FormatInt(id, 10) + " deleted"})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listDeliveries lists a webhook's outbox rows, oldest first, optionally
// of one state.
func (a *API) listDeliveries(w http.ResponseWriter, r *http.Request) error {
	id, err := webhookID(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	state := strings.TrimSpace(q.Get("state"))
	switch state {
	case "", hotdesk.DeliveryPending, hotdesk.DeliveryDelivered, hotdesk.DeliveryFailed:
	default:
		return hotdesk.Invalidf("state", "state must be pending, delivered or failed.")
	}
	limit, err := intParam(q, "limit", 100, 1, 1000)
	if err != nil {
		return err
	}
	if _, err := a.store.FindWebhook(r.Context(), id); err != nil {
		return err
	}
	ds, err := a.store.FindDeliveries(r.Context(), id, state, limit)
	if err != nil {
		return fmt.Errorf("find deliveries: %w", err)
	}
	writeJSON(w, http.StatusOK, orEmpty(ds))
	return nil
}
