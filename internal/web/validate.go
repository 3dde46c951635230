package web

import (
	"net"
	"net/url"
	"strings"

	"github.com/hotdesk-pbx/hotdesk"
)

// The field rules of users, devices and settings live in internal/admin
// (and internal/validate); the ones here are the API's own (webhooks,
// filters).

// checkWebhookURL requires https, or http to a loopback host (local
// receivers and tests).
func checkWebhookURL(v string) error {
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || len(v) > 2000 {
		return hotdesk.Invalidf("url", "url must be an absolute https:// URL.")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
	}
	return hotdesk.Invalidf("url", "url must use https:// (http:// only to localhost).")
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

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
