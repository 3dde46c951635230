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

// CreateWebhook stores a webhook to url for the audit kinds given (none:
// every kind) with a new signing secret, returned in the webhook this
// once. Errors: EINVALID (url, kinds).
func (s *Service) CreateWebhook(ctx context.Context, source, rawURL string, kinds []string) (*hotdesk.Webhook, error) {
	rawURL = strings.TrimSpace(rawURL)
	if err := collect(CheckWebhookURL(rawURL), validate.Kinds("kinds", kinds, validate.AuditKinds())); err != nil {
		return nil, err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("webhook secret: %w", err)
	}
	h := &hotdesk.Webhook{URL: rawURL, Secret: hex.EncodeToString(b), Kinds: kinds, Enabled: true, CreatedAt: s.now()}
	if err := s.store.CreateWebhook(ctx, h); err != nil {
		return nil, fmt.Errorf("create webhook: %w", err)
	}
	s.audit(ctx, source, &hotdesk.AuditEvent{Kind: hotdesk.KindSettings, Detail: "webhook " + strconv.FormatInt(h.ID, 10) + " created"})
	return h, nil
}

// SetWebhookEnabled switches a webhook on or off. Errors: ENOTFOUND.
func (s *Service) SetWebhookEnabled(ctx context.Context, source string, id int64, on bool) error {
	h, err := s.store.FindWebhook(ctx, id)
	if err != nil {
		return err
	}
	h.Enabled = on
	if err := s.store.UpdateWebhook(ctx, h); err != nil {
		return err
	}
	s.audit(ctx, source, &hotdesk.AuditEvent{Kind: hotdesk.KindSettings, Detail: "webhook " + strconv.FormatInt(id, 10) + " updated"})
	return nil
}

// DeleteWebhook removes a webhook and its deliveries. Errors: ENOTFOUND.
func (s *Service) DeleteWebhook(ctx context.Context, source string, id int64) error {
	if err := s.store.DeleteWebhook(ctx, id); err != nil {
		return err
	}
	s.audit(ctx, source, &hotdesk.AuditEvent{Kind: hotdesk.KindSettings, Detail: "webhook " + strconv.FormatInt(id, 10) + " deleted"})
	return nil
}
