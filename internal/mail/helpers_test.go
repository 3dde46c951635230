package mail_test

import (
	"encoding/base64"
	"log/slog"
	"strconv"
	"strings"
	"testing"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func slogDiscard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// decodeB64 decodes a base64 body split into lines.
func decodeB64(tb testing.TB, b []byte) []byte {
	tb.Helper()
	out, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(b)), ""))
	if err != nil {
		tb.Fatalf("attachment is not base64: %v", err)
	}
	return out
}
