package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/admin"
)

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
	hs, err := a.admin.Webhooks(r.Context())
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
	in, err := decodeWebhook(w, r)
	if err != nil {
		return err
	}
	h, err := a.admin.CreateWebhook(r.Context(), Source, in)
	if err != nil {
		return err
	}
	out := webhookJSON(h)
	out.Secret = h.Secret
	return created(w, "/api/v1/webhooks/"+strconv.FormatInt(h.ID, 10), out)
}

// decodeWebhook reads the webhook of a POST or PATCH body; kinds may be
// comma-separated.
func decodeWebhook(w http.ResponseWriter, r *http.Request) (admin.WebhookInput, error) {
	var in admin.WebhookInput
	if _, err := decode(w, r, &in, false); err != nil {
		return in, err
	}
	if in.Kinds != nil {
		*in.Kinds = splitList(*in.Kinds)
	}
	return in, nil
}

func (a *API) getWebhook(w http.ResponseWriter, r *http.Request, id int64) error {
	h, err := a.store.FindWebhook(r.Context(), id)
	return writeOr(w, http.StatusOK, webhookJSON, h, err)
}

func (a *API) patchWebhook(w http.ResponseWriter, r *http.Request, id int64) error {
	in, err := decodeWebhook(w, r)
	if err != nil {
		return err
	}
	h, err := a.admin.UpdateWebhook(r.Context(), Source, id, in)
	return writeOr(w, http.StatusOK, webhookJSON, h, err)
}

func (a *API) deleteWebhook(w http.ResponseWriter, r *http.Request, id int64) error {
	return noContent(w, a.admin.DeleteWebhook(r.Context(), Source, id))
}

// listDeliveries lists a webhook's outbox rows, oldest first, optionally
// of one state.
func (a *API) listDeliveries(w http.ResponseWriter, r *http.Request, id int64) error {
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
