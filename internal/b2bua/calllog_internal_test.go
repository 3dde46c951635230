package b2bua

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
)

// countingHandler counts the attributes handed to its WithAttrs.
type countingHandler struct {
	slog.Handler
	with *int
}

func (h countingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	*h.with += len(attrs)
	return countingHandler{h.Handler.WithAttrs(attrs), h.with}
}

// withLazy hands its attributes to the handler only when a record is
// logged (slog's With gives them at once, and the text handler formats
// them), and then logs what With would have.
func TestWithLazy(t *testing.T) {
	var lazyOut, eagerOut bytes.Buffer
	var with int
	base := slog.New(countingHandler{slog.NewTextHandler(&lazyOut, &slog.HandlerOptions{Level: slog.LevelInfo}), &with})
	log := withLazy(base, "call_id", "c1@h", "from", "201")
	log.Debug("not logged", "k", 1)
	if with != 0 {
		t.Fatalf("attributes handed to the handler before a record was logged: %d", with)
	}
	log = log.With("device", "HD1")
	log.Info("first", "k", 1)
	log.Warn("second")
	if with != 3 {
		t.Errorf("%d attributes handed to the handler, want the 3 once", with)
	}
	eager := slog.New(slog.NewTextHandler(&eagerOut, &slog.HandlerOptions{Level: slog.LevelInfo})).With("call_id", "c1@h", "from", "201").With("device", "HD1")
	eager.Info("first", "k", 1)
	eager.Warn("second")
	strip := func(s string) string { // the times differ
		var out []string
		for _, l := range strings.Split(s, "\n") {
			if _, rest, ok := strings.Cut(l, " "); ok {
				out = append(out, rest)
			}
		}
		return strings.Join(out, "\n")
	}
	if got, want := strip(lazyOut.String()), strip(eagerOut.String()); got != want {
		t.Errorf("logged\n%s\nwant (With)\n%s", got, want)
	}
	if g := withLazy(base, "a", 1).WithGroup("g"); g.Handler().Enabled(context.Background(), slog.LevelInfo) != true {
		t.Error("WithGroup lost the handler")
	}
}

// BenchmarkCallLogger: a call's logger as With builds it and as withLazy
// does, at the default level (nothing logged).
func BenchmarkCallLogger(b *testing.B) {
	base := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
	id, from, to := "a84b4c76e66710@pc33.example.com", "201", "202"
	b.Run("With", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			base.With("call_id", id, "from", from, "to", to).Debug("x")
		}
	})
	b.Run("withLazy", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			withLazy(base, "call_id", id, "from", from, "to", to).Debug("x")
		}
	})
}
