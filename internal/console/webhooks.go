package console

import (
	"net/http"
	"net/url"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/admin"
)

type webhooksData struct {
	Webhooks []*hotdesk.Webhook
	Form     *form
	Created  *hotdesk.Webhook // just created: its secret is shown once
}

// webhooksPage lists the webhooks with a form for a new one (issue 17
// item 13; the API had them alone).
func (c *Console) webhooksPage(w http.ResponseWriter, r *http.Request) error {
	return c.renderWebhooks(w, r, http.StatusOK, &webhooksData{Form: newForm(nil)})
}

func (c *Console) renderWebhooks(w http.ResponseWriter, r *http.Request, status int, d *webhooksData) error {
	hs, err := c.admin.Webhooks(r.Context())
	if err != nil {
		return err
	}
	d.Webhooks = hs
	c.render(w, r, status, "webhooks", d)
	return nil
}

func (c *Console) webhookCreate(w http.ResponseWriter, r *http.Request) error {
	f := newForm(r.PostForm)
	rawURL, kinds := f.Get("url"), splitList(f.Get("kinds"))
	h, err := c.admin.CreateWebhook(r.Context(), source(r), admin.WebhookInput{URL: &rawURL, Kinds: &kinds})
	if err != nil {
		if !f.ApplyAll(err, nil) {
			return err
		}
		return c.renderWebhooks(w, r, http.StatusBadRequest, &webhooksData{Form: f})
	}
	return c.renderWebhooks(w, r, http.StatusOK, &webhooksData{Form: newForm(nil), Created: h})
}

// webhookToggle switches a webhook on or off.
func (c *Console) webhookToggle(w http.ResponseWriter, r *http.Request, id int64) error {
	on := r.PostFormValue("enabled") == "1"
	if _, err := c.admin.UpdateWebhook(r.Context(), source(r), id, admin.WebhookInput{Enabled: &on}); err != nil {
		return err
	}
	return redirect(w, r, "/webhooks?flash="+url.QueryEscape("Saved webhook "+r.PathValue("id")+"."))
}

func (c *Console) webhookDelete(w http.ResponseWriter, r *http.Request, id int64) error {
	if err := c.admin.DeleteWebhook(r.Context(), source(r), id); err != nil {
		return err
	}
	return redirect(w, r, "/webhooks?flash="+url.QueryEscape("Deleted webhook "+r.PathValue("id")+"."))
}
