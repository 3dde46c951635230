package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/hotdesk-pbx/hotdesk"
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
	var kinds []string
	for _, k := range strings.Split(f.Get("kinds"), ",") {
		if k = strings.TrimSpace(k); k != "" {
			kinds = append(kinds, k)
		}
	}
	h, err := c.admin.CreateWebhook(r.Context(), source(r), f.Get("url"), kinds)
	if err != nil {
		if !f.ApplyAll(err, nil) {
			return err
		}
		return c.renderWebhooks(w, r, http.StatusBadRequest, &webhooksData{Form: f})
	}
	return c.renderWebhooks(w, r, http.StatusOK, &webhooksData{Form: newForm(nil), Created: h})
}

func webhookIDOf(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, hotdesk.Errorf(hotdesk.ENOTFOUND, "Webhook %s not found.", r.PathValue("id"))
	}
	return id, nil
}

// webhookToggle switches a webhook on or off.
func (c *Console) webhookToggle(w http.ResponseWriter, r *http.Request) error {
	id, err := webhookIDOf(r)
	if err != nil {
		return err
	}
	on := r.PostFormValue("enabled") == "1"
	if err := c.admin.SetWebhookEnabled(r.Context(), source(r), id, on); err != nil {
		return err
	}
	return redirect(w, r, "/webhooks?flash="+url.QueryEscape("Saved webhook "+r.PathValue("id")+"."))
}

func (c *Console) webhookDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := webhookIDOf(r)
	if err != nil {
		return err
	}
	if err := c.admin.DeleteWebhook(r.Context(), source(r), id); err != nil {
		return err
	}
	return redirect(w, r, "/webhooks?flash="+url.QueryEscape("Deleted webhook "+r.PathValue("id")+"."))
}
