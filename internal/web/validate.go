package web

import "strings"

// The field rules of users, devices, settings and webhooks live in
// internal/admin (and internal/validate); the API only splits lists.

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
