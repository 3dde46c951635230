package web

import (
	"strings"

	"github.com/hotdesk-pbx/hotdesk/internal/admin"
)

// The field rules of users, devices and settings live in internal/admin
// (and internal/validate); the ones here are the API's own (webhooks,
// filters).

// checkWebhookURL requires https, or http to a loopback host (local
// receivers and tests).
func checkWebhookURL(v string) error { return admin.CheckWebhookURL(v) }

// splitList splits values that may repeat and hold commas, dropping blanks.
func splitList(vs []string) []string {
	var out []string
	for _, v := range vs {
		for _, k := range strings.Split(v, ",") {
			if k = strings.TrimSpace(k); k != "" {
				out = append(out, k)
			}
		}
	}
	return out
}
