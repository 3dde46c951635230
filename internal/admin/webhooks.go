package admin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/hotdesk-pbx/hotdesk"
	"github.com/hotdesk-pbx/hotdesk/internal/validate"
)

// CheckWebhookURL requires an absolute https URL (http only to loopback).
func CheckWebhookURL(v string) error {
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || len(v) > 2000 {
		return hotdesk.Invalidf("url", "url must be an absolute https:// URL.")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if h := u.Hostname(); h == "localhost" || net.ParseIP(h) != nil && net.ParseIP(h).IsLoopback() {
			return nil
		}
	}
	return hotdesk.Invalidf("url", "url must use https:// (http:// only to localhost).")
}

// Webhooks lists the webhooks (without secrets).
func (s *Service) Webhooks(ctx context.Context) ([]*hotdesk.Webhook, error) {
	return s.store.ListWebhooks(ctx)
}

// WebhookInput is a webhook as created or changed; a nil field is not
// given (on create: every kind, enabled).
type WebhookInput struct {
	URL     *string   `json:"url"`
	Kinds   *[]string `json:"kinds"` // empty: every kind
	Enabled *bool     `json:"enabled"`
}

// check trims the URL and checks every given field, all errors at once;
// create requires the URL.
func (in *WebhookInput) check(create bool) error {
	var urlErr, kindsErr error
	if in.URL != nil {
		*in.URL = strings.TrimSpace(*in.URL)
		urlErr = CheckWebhookURL(*in.URL)
	} else if create {
		urlErr = hotdesk.Invalidf("url", "url is required.")
	}
	if in.Kinds != nil {
		kindsErr = validate.Kinds("kinds", *in.Kinds, validate.AuditKinds())
	}
	return collect(urlErr, kindsErr)
}

// set copies the given fields into h.
func (in *WebhookInput) set(h *hotdesk.Webhook) {
	setField(&h.URL, in.URL)
	setField(&h.Kinds, in.Kinds)
	setField(&h.Enabled, in.Enabled)
}

// CreateWebhook stores a webhook with a new signing secret, returned in
// the webhook this once. Errors: EINVALID (url, kinds).
func (s *Service) CreateWebhook(ctx context.Context, source string, in WebhookInput) (*hotdesk.Webhook, error) {
	if err := in.check(true); err != nil {
		return nil, err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("webhook secret: %w", err)
	}
	h := &hotdesk.Webhook{Secret: hex.EncodeToString(b), Enabled: true, CreatedAt: s.now()}
	in.set(h)
	if err := s.store.CreateWebhook(ctx, h); err != nil {
		return nil, fmt.Errorf("create webhook: %w", err)
	}
	s.auditWebhook(ctx, source, h.ID, "created")
	return h, nil
}

// UpdateWebhook changes the given fields of a webhook. Errors: EINVALID
// (url, kinds), ENOTFOUND.
func (s *Service) UpdateWebhook(ctx context.Context, source string, id int64, in WebhookInput) (*hotdesk.Webhook, error) {
	if err := in.check(false); err != nil {
		return nil, err
	}
	h, err := s.store.FindWebhook(ctx, id)
	if err != nil {
		return nil, err
	}
	in.set(h)
	if err := s.store.UpdateWebhook(ctx, h); err != nil {
		return nil, err
	}
	s.auditWebhook(ctx, source, id, "updated")
	return h, nil
}

// DeleteWebhook removes a webhook and its deliveries. Errors: ENOTFOUND.
func (s *Service) DeleteWebhook(ctx context.Context, source string, id int64) error {
	if err := s.store.DeleteWebhook(ctx, id); err != nil {
		return err
	}
	s.auditWebhook(ctx, source, id, "deleted")
	return nil
}

// auditWebhook audits a change to webhook id (a settings event).
func (s *Service) auditWebhook(ctx context.Context, source string, id int64, what string) {
	s.audit(ctx, source, &hotdesk.AuditEvent{Kind: hotdesk.KindSettings, Detail: "webhook " + strconv.FormatInt(id, 10) + " " + what})
}
